-- Projects on which the acting user's effective role is at least p_min_role.
-- (Effective role = max of two sources, so "any source >= min" is the same.)
create or replace function ops.project_ids_with_role(p_min_role text)
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(pg_catalog.array_agg(distinct x.project_id), '{}')
      from (
            select p.id as project_id, om.role
              from registry.org_members om
              join ops.projects p on p.org_id = om.org_id
             where om.user_id = ops.current_user_id()
            union all
            select pm.project_id, pm.role
              from ops.project_members pm
             where pm.user_id = ops.current_user_id()
           ) x
     where ops.role_rank(x.role) >= ops.role_rank(p_min_role)
       and exists (select 1 from registry.users u where u.id = ops.current_user_id() and u.is_active)
$$;
revoke all on function ops.project_ids_with_role(text) from public, ops_app, ops_service;
grant execute on function ops.project_ids_with_role(text) to ops_app;
