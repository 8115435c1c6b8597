-- ops.instance_logs: Read-only for the app; written by the runner's log calls.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.instance_logs');
grant select on ops.instance_logs to ops_app;

create policy instance_logs_select on ops.instance_logs
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
