-- A runner's backup artifact calls (PUT/GET backups/{id}/artifact?lease_id=…): the runner's right to the backup is
-- ops_private.backup_right's (the one rule: which leases write, which read, and that a lease holds until the rescuer
-- takes it back); this adds what the zip itself needs, and answers the backup's storage facts. Writing needs a backup
-- still being taken (pending or running): a taken backup's zip is never replaced (55000, 409). Reading needs a stored
-- zip (P0002, 404). Unknown or pruned backup: P0002 (404). No such lease: OOL01 (409 lease lost).
create or replace function ops.backup_artifact_lease(p_runner_id uuid, p_backup_id uuid, p_lease_id uuid, p_write boolean)
returns table (project_id uuid, branch_id uuid, status text, storage text, storage_key text, size_bytes bigint, sha256 text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup ops.backups := ops_private.backup_right(p_runner_id, p_backup_id, p_lease_id, p_write);
begin
    if p_write and v_backup.status not in ('pending', 'running') then
        raise exception 'Backup % is % already; its zip is not replaced.', p_backup_id, v_backup.status using errcode = '55000';
    end if;
    if not p_write and v_backup.size_bytes is null then
        raise exception 'Backup % has no stored zip yet.', p_backup_id using errcode = 'P0002';
    end if;
    return query select v_backup.project_id, v_backup.branch_id, v_backup.status, v_backup.storage, v_backup.storage_key,
                        v_backup.size_bytes, v_backup.sha256;
end
$$;
revoke all on function ops.backup_artifact_lease(uuid, uuid, uuid, boolean) from public, ops_app, ops_service;
grant execute on function ops.backup_artifact_lease(uuid, uuid, uuid, boolean) to ops_service;
