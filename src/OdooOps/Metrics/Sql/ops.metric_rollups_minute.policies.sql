-- ops.metric_rollups_minute: Read-only for the app; written by the rollup fold.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.metric_rollups_minute');
grant select on ops.metric_rollups_minute to ops_app;

create policy metric_rollups_minute_select on ops.metric_rollups_minute
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
