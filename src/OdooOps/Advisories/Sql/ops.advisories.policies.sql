-- ops.advisories: Readers read; developer+ resolve, suppress and reopen.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.advisories');
grant select on ops.advisories to ops_app;
grant update (status, suppressed_until, suppress_reason, resolved_at) on ops.advisories to ops_app;

create policy advisories_select on ops.advisories
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy advisories_update on ops.advisories
    for update to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('developer'))))
    with check (project_id in (select unnest(ops.project_ids_with_role('developer'))));
