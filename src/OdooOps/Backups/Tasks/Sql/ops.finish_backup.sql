-- A runner's report of the backup it took (POST backups/{id}/done), under the lease of the task taking it or of the
-- build that asked for it (ops_private.backup_right, writing: OOL01 otherwise). failed: the backup failed with p_detail.
-- succeeded: p_facts must name the size and SHA-256 the server itself counted when it stored the zip (the artifact
-- upload); otherwise the backup fails with "the stored file does not match …", and that reason is answered (the API
-- says 422). A matching backup is succeeded with its facts (duration, Odoo version, modules, tables, filestore) and
-- its verification is queued at once (ops_private.queue_verify). A report repeated after a lost answer gets the same
-- answer; one that contradicts a backup already ended is 55000 (409).
create or replace function ops.finish_backup(p_runner_id uuid, p_backup_id uuid, p_lease_id uuid, p_result text, p_detail text,
                                             p_facts jsonb)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups;
    v_reason  text;
begin
    v_backup := ops_private.backup_right(p_runner_id, p_backup_id, p_lease_id, true);
    if p_result is null or p_result not in ('succeeded', 'failed') then
        raise exception 'result must be succeeded or failed' using errcode = '22023', column = 'result';
    end if;
    if p_result = 'succeeded' and p_facts is null then
        raise exception 'A succeeded backup reports its facts.' using errcode = '22023', column = 'facts';
    end if;

    if v_backup.status in ('succeeded', 'failed') then
        if p_result = 'succeeded' and v_backup.status = 'succeeded' and v_backup.sha256 = p_facts ->> 'sha256' then
            return null;
        elsif p_result = 'succeeded' and v_backup.status = 'failed' and v_backup.reason like 'the stored file does not match%' then
            return v_backup.reason;
        elsif p_result = 'failed' and v_backup.status = 'failed' then
            return null;
        end if;
        raise exception 'Backup % has already %.', p_backup_id, v_backup.status using errcode = '55000';
    end if;

    if p_result = 'failed' then
        update ops.backups b
           set status = 'failed', reason = pg_catalog.left(coalesce(nullif(pg_catalog.btrim(p_detail), ''), 'the runner reported a failure'), 2000),
               finished_at = pg_catalog.now(), runner_id = coalesce(b.runner_id, p_runner_id)
         where b.id = p_backup_id;
        return null;
    end if;

    if v_backup.storage_key is null or v_backup.size_bytes is distinct from (p_facts ->> 'size_bytes')::bigint
       or v_backup.sha256 is distinct from p_facts ->> 'sha256' then
        v_reason := pg_catalog.format('the stored file does not match what the runner reported: %s; reported %s bytes, sha256 %s',
                        case when v_backup.storage_key is null then 'nothing was stored (PUT backups/' || p_backup_id || '/artifact)'
                             else pg_catalog.format('stored %s bytes, sha256 %s', v_backup.size_bytes, v_backup.sha256) end,
                        p_facts ->> 'size_bytes', p_facts ->> 'sha256');
        update ops.backups b
           set status = 'failed', reason = pg_catalog.left(v_reason, 2000), finished_at = pg_catalog.now(),
               runner_id = coalesce(b.runner_id, p_runner_id)
         where b.id = p_backup_id;
        return v_reason;
    end if;

    update ops.backups b
       set status = 'succeeded', reason = null, finished_at = pg_catalog.now(), runner_id = coalesce(b.runner_id, p_runner_id),
           duration_ms = (p_facts ->> 'duration_ms')::bigint, odoo_version = p_facts ->> 'odoo_version',
           modules = p_facts -> 'modules', table_count = (p_facts ->> 'table_count')::int,
           filestore_files = (p_facts ->> 'filestore_files')::int, filestore_bytes = (p_facts ->> 'filestore_bytes')::bigint,
           filestore_sha256 = p_facts ->> 'filestore_sha256'
     where b.id = p_backup_id;
    perform ops_private.queue_verify(p_backup_id);
    return null;
end
$$;
revoke all on function ops.finish_backup(uuid, uuid, uuid, text, text, jsonb) from public, ops_app, ops_service;
grant execute on function ops.finish_backup(uuid, uuid, uuid, text, text, jsonb) to ops_service;
