-- A person's manual backup of a branch. Not found or not visible: P0002. Archived, or no runner hosts the branch (it has
-- nothing to back up yet): 55000. Below ops.backup_role of its stage: 42501 in words. The 6th in 24 hours: OOB01
-- (ops_private.backup_quota). Returns the new backup's id; the audit row is the caller's use case's (BackupRequests).
-- SECURITY DEFINER: the request role may only read ops.backups and ops.runner_tasks.
create or replace function ops.request_backup(p_branch_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch  ops.branches := ops_private.visible_branch(p_branch_id);
begin
    perform ops_private.backup_refusal(v_branch, 'Backing up');
    if not exists (select 1 from ops_private.backup_host(p_branch_id)) then
        raise exception 'Nothing to back up yet: no runner hosts % (it has no instance). Build it first.', v_branch.name using errcode = '55000';
    end if;
    perform ops_private.backup_quota(v_branch, 'manual');
    return ops_private.queue_backup(p_branch_id, 'manual', ops.current_user_id(), null);
end
$$;
revoke all on function ops.request_backup(uuid) from public, ops_app, ops_service;
grant execute on function ops.request_backup(uuid) to ops_app;
