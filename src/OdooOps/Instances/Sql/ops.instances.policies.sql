-- ops.instances: Read-only for the app. People's start/stop/restart go through ops.request_instance_action (roles,
-- audit); everything else is written by the runner's sync (ops.sync_runner_instances) and build finish.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.instances');
grant select on ops.instances to ops_app;

create policy instances_select on ops.instances
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
