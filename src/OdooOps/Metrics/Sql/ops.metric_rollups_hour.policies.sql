-- ops.metric_rollups_hour: Read-only for the app; written by the rollup fold.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.metric_rollups_hour');
grant select on ops.metric_rollups_hour to ops_app;

create policy metric_rollups_hour_select on ops.metric_rollups_hour
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
