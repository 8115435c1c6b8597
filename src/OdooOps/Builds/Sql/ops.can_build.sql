-- May the acting user start (or cancel) a build of this branch? Their role on the project must reach the branch's
-- ops.build_role. The one owner of "who may build": the builds policies, ops.trigger_build, ops.cancel_build and the
-- host's refusals (ops.build_refusal) all ask it.
create or replace function ops.can_build(p_project_id uuid, p_branch_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce((select ops.role_rank(ops.project_role(p_project_id)) >= ops.role_rank(ops.build_role(b.stage))
                       from ops.branches b
                      where b.id = p_branch_id
                        and b.project_id = p_project_id), false)
$$;
revoke all on function ops.can_build(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.can_build(uuid, uuid) to ops_app;
