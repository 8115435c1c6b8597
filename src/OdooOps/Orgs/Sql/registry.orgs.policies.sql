-- registry.orgs: Members read; owner/admin update name, slug and the default Odoo version. Orgs are created by the admin verb (odooops org create).
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('registry.orgs');
grant select on registry.orgs to ops_app;
grant update (name, slug, default_odoo_version) on registry.orgs to ops_app;

create policy orgs_select on registry.orgs
    for select to ops_app
    using (id in (select unnest(ops.visible_org_ids())));

create policy orgs_update on registry.orgs
    for update to ops_app
    using (id in (select unnest(ops.org_ids_with_role('admin'))))
    with check (id in (select unnest(ops.org_ids_with_role('admin'))));
