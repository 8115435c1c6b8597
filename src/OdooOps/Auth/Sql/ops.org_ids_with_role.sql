-- Orgs in which the acting user holds at least p_min_role.
create or replace function ops.org_ids_with_role(p_min_role text)
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(pg_catalog.array_agg(om.org_id), '{}')
      from registry.org_members om
      join registry.users u on u.id = om.user_id and u.is_active
     where om.user_id = ops.current_user_id()
       and ops.role_rank(om.role) >= ops.role_rank(p_min_role)
$$;
revoke all on function ops.org_ids_with_role(text) from public, ops_app, ops_service;
grant execute on function ops.org_ids_with_role(text) to ops_app;
