-- The retention job deleted a pruned backup's stored file. False when it was not a pruned backup with a file left.
create or replace function ops.mark_backup_file_deleted(p_backup_id uuid)
returns boolean
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    with marked as (
        update ops.backups k set file_deleted_at = pg_catalog.now()
         where k.id = p_backup_id and k.deleted_at is not null and k.file_deleted_at is null
        returning k.id)
    select exists (select 1 from marked)
$$;
revoke all on function ops.mark_backup_file_deleted(uuid) from public, ops_app, ops_service;
grant execute on function ops.mark_backup_file_deleted(uuid) to ops_service;
