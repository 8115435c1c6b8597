-- ops.deployments: Read-only for the app; written by internal functions.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.deployments');
grant select on ops.deployments to ops_app;

create policy deployments_select on ops.deployments
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
