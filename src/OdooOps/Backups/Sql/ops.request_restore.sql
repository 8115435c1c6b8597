-- A person's restore of a backup into a branch of its project (ops_private.queue_restore: a pre-restore backup first
-- on production, neutralised on staging and development). Backup not found or not visible: P0002; a branch of another
-- project: 22023 naming branch_id. Below ops.backup_role of the target's stage (admin for production, tester for
-- staging and development): 42501 in words. Production also needs p_confirm to be the branch's name: 22023 naming
-- confirm. Returns the restore task's id; the audit row is the caller's use case's (BackupRequests).
create or replace function ops.request_restore(p_backup_id uuid, p_branch_id uuid, p_confirm text)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups := ops_private.visible_backup(p_backup_id);
    v_branch  ops.branches;
begin
    select * into v_branch from ops.branches b where b.id = p_branch_id and b.project_id = v_backup.project_id;
    if not found then
        raise exception 'No such branch in this backup''s project: a backup is restored into a branch of its own project only.'
            using errcode = '22023', column = 'branch_id';
    end if;
    perform ops_private.backup_refusal(v_branch, 'Restoring into');
    if v_branch.stage = 'production' and p_confirm is distinct from v_branch.name then
        raise exception '%', pg_catalog.format('Type the branch name, %s, to confirm: the restore replaces the production database and filestore (a pre-restore backup is taken first).',
                v_branch.name)
            using errcode = '22023', column = 'confirm';
    end if;
    return ops_private.queue_restore(p_backup_id, p_branch_id, ops.current_user_id());
end
$$;
revoke all on function ops.request_restore(uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.request_restore(uuid, uuid, text) to ops_app;
