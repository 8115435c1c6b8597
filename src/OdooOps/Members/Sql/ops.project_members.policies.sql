-- ops.project_members: Readers read; admin+ write.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.project_members');
grant select, insert, delete on ops.project_members to ops_app;
grant update (role) on ops.project_members to ops_app;

create policy project_members_select on ops.project_members
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy project_members_write on ops.project_members
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin'))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin'))));
