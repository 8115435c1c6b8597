-- ops.metric_samples: Read-only for the app; written by the ingest function. Applies to every partition when read through the
-- parent; partitions themselves have RLS on, no policy and no grants.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.metric_samples');
grant select on ops.metric_samples to ops_app;

-- Applies to every partition when read through the parent; partitions
-- themselves have RLS on, no policy and no grants.
create policy metric_samples_select on ops.metric_samples
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
