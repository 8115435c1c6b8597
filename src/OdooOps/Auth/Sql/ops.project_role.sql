-- The acting user's effective role on a project: max(org role, project role).
create or replace function ops.project_role(p_project_id uuid)
returns text
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.role
      from (
            select om.role
              from ops.projects p
              join registry.org_members om on om.org_id = p.org_id
             where p.id = p_project_id
               and om.user_id = ops.current_user_id()
            union all
            select pm.role
              from ops.project_members pm
             where pm.project_id = p_project_id
               and pm.user_id = ops.current_user_id()
           ) r
     where exists (select 1 from registry.users u where u.id = ops.current_user_id() and u.is_active)
     order by ops.role_rank(r.role) desc
     limit 1
$$;
revoke all on function ops.project_role(uuid) from public, ops_app, ops_service;
grant execute on function ops.project_role(uuid) to ops_app;
