-- ops.backups: Read-only for the app. People's requests go through the backups' functions (roles, quota, audit);
-- everything else is written by the runner's calls (tasks, their logs and results).
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.backups');
grant select on ops.backups to ops_app;

create policy backups_select on ops.backups
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
