-- The acting user's role in an org (null = none). Inactive users have none.
create or replace function ops.org_role(p_org_id uuid)
returns text
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select om.role
      from registry.org_members om
      join registry.users u on u.id = om.user_id and u.is_active
     where om.org_id = p_org_id
       and om.user_id = ops.current_user_id()
$$;
revoke all on function ops.org_role(uuid) from public, ops_app, ops_service;
grant execute on function ops.org_role(uuid) to ops_app;
