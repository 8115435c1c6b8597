-- May the acting user back up this branch, download, verify or import its backups, or restore one into it? Their role
-- on the project must reach the branch's ops.backup_role. The one owner of "who may touch a branch's backups": the
-- people's backup functions and the console ask it.
create or replace function ops.can_manage_backups(p_project_id uuid, p_branch_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce((select ops.role_rank(ops.project_role(p_project_id)) >= ops.role_rank(ops.backup_role(b.stage))
                       from ops.branches b
                      where b.id = p_branch_id
                        and b.project_id = p_project_id), false)
$$;
revoke all on function ops.can_manage_backups(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.can_manage_backups(uuid, uuid) to ops_app;
