-- ops.build_logs: Read-only for the app; written by the runner functions.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.build_logs');
grant select on ops.build_logs to ops_app;

create policy build_logs_select on ops.build_logs
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
