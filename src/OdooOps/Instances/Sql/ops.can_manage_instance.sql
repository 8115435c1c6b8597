-- May the acting user start, stop or restart an instance of this branch, released at this stage? As for builds
-- (ops.can_build, ops.build_role): testers on development and staging, developers and above on production, by the
-- stricter of the instance's stage and its branch's stage now (a staging instance of a branch promoted since is the
-- production one). The one owner of "who may act on an instance": ops.request_instance_action and the console ask it.
create or replace function ops.can_manage_instance(p_project_id uuid, p_branch_id uuid, p_stage text)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select ops.can_build(p_project_id, p_branch_id)
       and ops.role_rank(ops.project_role(p_project_id)) >= ops.role_rank(ops.build_role(p_stage))
$$;
revoke all on function ops.can_manage_instance(uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.can_manage_instance(uuid, uuid, text) to ops_app;
