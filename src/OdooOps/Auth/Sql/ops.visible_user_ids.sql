-- Users the acting user may see: themself, people sharing an org, and members
-- of projects they can see (so a project member list can show names).
create or replace function ops.visible_user_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(pg_catalog.array_agg(distinct x.user_id), '{}')
      from (
            select u.id as user_id
              from registry.users u
             where u.id = ops.current_user_id()
            union all
            select om.user_id
              from registry.org_members om
             where om.org_id = any (ops.visible_org_ids())
            union all
            select pm.user_id
              from ops.project_members pm
             where pm.project_id = any (ops.visible_project_ids())
           ) x
     where exists (select 1 from registry.users u where u.id = ops.current_user_id() and u.is_active)
$$;
revoke all on function ops.visible_user_ids() from public, ops_app, ops_service;
grant execute on function ops.visible_user_ids() to ops_app;
