-- May the acting user administer runners of this org (null: shared runners)? Org owner/admin; system admin for shared.
create or replace function ops_private.may_admin_runners(p_org_id uuid)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select case when p_org_id is null then ops.is_system_admin()
                else ops.role_rank(ops.org_role(p_org_id)) >= ops.role_rank('admin') end
$$;
revoke all on function ops_private.may_admin_runners(uuid) from public, ops_app, ops_service;
