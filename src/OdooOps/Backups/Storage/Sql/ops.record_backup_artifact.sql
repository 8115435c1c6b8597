-- After a runner's PUT backups/{id}/artifact: what the server stored (its own count and SHA-256), where. The right is
-- checked again (ops.backup_artifact_lease, over ops_private.backup_right), so an upload whose lease the rescuer took
-- back meanwhile, or whose backup was taken meanwhile, records nothing. BackupDone compares the runner's facts with these.
create or replace function ops.record_backup_artifact(p_runner_id uuid, p_backup_id uuid, p_lease_id uuid, p_storage text,
                                                      p_storage_key text, p_size_bytes bigint, p_sha256 text)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops.backup_artifact_lease(p_runner_id, p_backup_id, p_lease_id, true);
    update ops.backups b
       set storage = p_storage, storage_key = p_storage_key, size_bytes = p_size_bytes, sha256 = p_sha256
     where b.id = p_backup_id;
end
$$;
revoke all on function ops.record_backup_artifact(uuid, uuid, uuid, text, text, bigint, text) from public, ops_app, ops_service;
grant execute on function ops.record_backup_artifact(uuid, uuid, uuid, text, text, bigint, text) to ops_service;
