-- Orgs the acting user belongs to (any role): the read policies of org-scoped rows.
create or replace function ops.visible_org_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select ops.org_ids_with_role('viewer')
$$;
revoke all on function ops.visible_org_ids() from public, ops_app, ops_service;
grant execute on function ops.visible_org_ids() to ops_app;
