-- A person's import of a backup zip into a branch, step 1: the ops.backups row of kind 'import', running while the upload
-- is stored (ops.finish_import records how it ended). Branch not found or not visible: P0002; archived: 55000. Below
-- ops.backup_role of its stage: 42501 in words. The 6th import in 24 hours: OOB01 (ops_private.backup_quota).
create or replace function ops.request_import(p_branch_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch  ops.branches := ops_private.visible_branch(p_branch_id);
    v_id      uuid;
begin
    perform ops_private.backup_refusal(v_branch, 'Importing a backup into');
    perform ops_private.backup_quota(v_branch, 'import');
    insert into ops.backups (project_id, branch_id, kind, status, requested_by, started_at)
    values (v_branch.project_id, v_branch.id, 'import', 'running', ops.current_user_id(), pg_catalog.now())
    returning id into v_id;
    return v_id;
end
$$;
revoke all on function ops.request_import(uuid) from public, ops_app, ops_service;
grant execute on function ops.request_import(uuid) to ops_app;
