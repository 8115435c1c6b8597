-- A person's import, step 2: how storing the upload ended. p_error null: succeeded, with where it is stored, its size and
-- SHA-256 (the storage's own count), and what its manifest claims (Odoo version, modules {name: version}, filestore
-- files and bytes: shown, not trusted; the verification checks them); it is verified next (ops_private.queue_verify).
-- Otherwise failed with p_error as the reason. Only the running import the same person started (P0002 otherwise).
create or replace function ops.finish_import(p_backup_id uuid, p_storage text, p_storage_key text, p_size_bytes bigint, p_sha256 text,
    p_odoo_version text, p_modules jsonb, p_filestore_files int, p_filestore_bytes bigint, p_error text)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups;
begin
    select * into v_backup from ops.backups k
     where k.id = p_backup_id and k.kind = 'import' and k.status = 'running'
       and (not ops_private.is_request_session() or k.requested_by = ops.current_user_id())
       for update;
    if not found then
        raise exception 'import % not found', p_backup_id using errcode = 'P0002';
    end if;
    if p_error is not null then
        update ops.backups k
           set status = 'failed', reason = left(p_error, 2000), finished_at = pg_catalog.now(),
               duration_ms = (extract(epoch from pg_catalog.now() - k.started_at) * 1000)::bigint
         where k.id = p_backup_id;
        return;
    end if;
    update ops.backups k
       set status = 'succeeded', storage = p_storage, storage_key = p_storage_key, size_bytes = p_size_bytes, sha256 = p_sha256,
           odoo_version = p_odoo_version, modules = p_modules, filestore_files = p_filestore_files, filestore_bytes = p_filestore_bytes,
           finished_at = pg_catalog.now(), duration_ms = (extract(epoch from pg_catalog.now() - k.started_at) * 1000)::bigint
     where k.id = p_backup_id;
    perform ops_private.queue_verify(p_backup_id);
end
$$;
revoke all on function ops.finish_import(uuid, text, text, bigint, text, text, jsonb, int, bigint, text) from public, ops_app, ops_service;
grant execute on function ops.finish_import(uuid, text, text, bigint, text, text, jsonb, int, bigint, text) to ops_app;
