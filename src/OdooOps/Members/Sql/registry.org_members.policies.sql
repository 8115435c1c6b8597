-- registry.org_members: Members read; owner/admin write; only an owner may grant, change or remove the 'owner' role.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('registry.org_members');
grant select, insert, delete on registry.org_members to ops_app;
grant update (role) on registry.org_members to ops_app;

create policy org_members_select on registry.org_members
    for select to ops_app
    using (org_id in (select unnest(ops.visible_org_ids())));

create policy org_members_insert on registry.org_members
    for insert to ops_app
    with check (org_id in (select unnest(ops.org_ids_with_role('admin')))
                and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))));

create policy org_members_update on registry.org_members
    for update to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin')))
           and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))))
    with check (org_id in (select unnest(ops.org_ids_with_role('admin')))
                and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))));

create policy org_members_delete on registry.org_members
    for delete to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin')))
           and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))));
