-- The stored files of pruned backups that are not deleted yet, oldest prune first (the retention job deletes each through
-- the storage, then ops.mark_backup_file_deleted; one it could not delete comes back at the next run).
create or replace function ops.backup_files_to_delete(p_limit int)
returns table (backup_id uuid, storage text, storage_key text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select k.id, k.storage, k.storage_key
      from ops.backups k
     where k.deleted_at is not null and k.file_deleted_at is null and k.storage_key is not null
     order by k.deleted_at, k.id
     limit p_limit
$$;
revoke all on function ops.backup_files_to_delete(int) from public, ops_app, ops_service;
grant execute on function ops.backup_files_to_delete(int) to ops_service;
