-- What the download of a signed link needs (the link's signature is checked before this is called: the caller has no
-- session): where the zip is and what to name it. Unknown, deleted or not taken (yet): P0002 (404).
create or replace function ops.backup_download_facts(p_backup_id uuid)
returns table (project_slug text, branch_name text, created_at timestamptz, storage text, storage_key text, size_bytes bigint)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select p.slug, br.name, b.created_at, b.storage, b.storage_key, b.size_bytes
      from ops.backups b
      join ops.projects p on p.id = b.project_id
      join ops.branches br on br.id = b.branch_id
     where b.id = p_backup_id and b.deleted_at is null and b.status = 'succeeded' and b.storage_key is not null
$$;
revoke all on function ops.backup_download_facts(uuid) from public, ops_app, ops_service;
grant execute on function ops.backup_download_facts(uuid) to ops_service;
