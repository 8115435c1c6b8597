-- May the acting user start (or cancel) a build of this branch?
-- developer+ on any stage; tester only on development/staging branches.
create or replace function ops.can_build(p_project_id uuid, p_branch_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select case
               when ops.role_rank(ops.project_role(p_project_id)) >= 3 then true
               when ops.role_rank(ops.project_role(p_project_id)) = 2 then
                    exists (select 1
                              from ops.branches b
                             where b.id = p_branch_id
                               and b.project_id = p_project_id
                               and b.stage <> 'production')
               else false
           end
$$;
revoke execute on function ops.can_build(uuid, uuid) from public;
grant execute on function ops.can_build(uuid, uuid) to ops_app;
