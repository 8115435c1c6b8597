-- ops.advisory_events: whoever sees an advisory sees its history; only the advisories' trigger writes it.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.advisory_events');
grant select on ops.advisory_events to ops_app;

create policy advisory_events_select on ops.advisory_events
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
