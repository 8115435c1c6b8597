-- A person's download of a backup: the backup (for its signed link), if they may. Not found or not visible: P0002.
-- Below ops.backup_role of its branch's stage: 42501 in words. Not taken, or pruned: 55000. The link and the audit row
-- are the caller's use case's (BackupDownload).
create or replace function ops.request_download(p_backup_id uuid)
returns ops.backups
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups := ops_private.visible_backup(p_backup_id);
    v_branch  ops.branches;
begin
    select * into v_branch from ops.branches b where b.id = v_backup.branch_id;
    perform ops_private.backup_refusal(v_branch, 'Downloading a backup of');
    if v_backup.deleted_at is not null or v_backup.status <> 'succeeded' or v_backup.storage_key is null then
        raise exception 'Only a backup that was taken and is still kept can be downloaded; this one is %.',
            case when v_backup.deleted_at is not null then 'pruned' else v_backup.status end using errcode = '55000';
    end if;
    return v_backup;
end
$$;
revoke all on function ops.request_download(uuid) from public, ops_app, ops_service;
grant execute on function ops.request_download(uuid) to ops_app;
