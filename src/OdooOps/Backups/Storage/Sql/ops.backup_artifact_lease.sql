-- The one check of a runner's backup artifact calls (PUT/GET backups/{id}/artifact?lease_id=…): the runner holds a
-- lease that entitles it to this backup's zip, and the backup's storage facts come back. Entitled:
--  * a task of this backup that is running, leased to this runner under this lease, and not expired (writing: only a
--    'backup' task; verify and restore tasks read);
--  * the build that takes this backup (ops.backups.build_id: a pre-deploy backup), while this runner holds its lease
--    (ops_private.held_lease): it writes the zip, and reads it back to revert a failed update;
--  * reading only: a staging build of the same project, while this runner holds its lease, copying a succeeded backup
--    of the project's production branch (the staging refresh).
-- Writing also needs a backup still being taken (pending or running): a taken backup's zip is never replaced.
-- Unknown or deleted backup: P0002 (404). No such lease: OOL01 (409 lease lost). Taken already: 55000 (409).
create or replace function ops.backup_artifact_lease(p_runner_id uuid, p_backup_id uuid, p_lease_id uuid, p_write boolean)
returns table (project_id uuid, branch_id uuid, status text, storage text, storage_key text, size_bytes bigint, sha256 text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup ops.backups;
    v_held boolean;
    v_build_id uuid;
begin
    if p_write then
        select * into v_backup from ops.backups b where b.id = p_backup_id and b.deleted_at is null for update;
    else
        select * into v_backup from ops.backups b where b.id = p_backup_id and b.deleted_at is null;
    end if;
    if not found then
        raise exception 'Unknown backup %.', p_backup_id using errcode = 'P0002';
    end if;

    v_held := exists (
        select 1 from ops.runner_tasks t
         where t.backup_id = p_backup_id and t.status = 'running' and t.lease_id = p_lease_id
           and t.leased_runner_id = p_runner_id and t.lease_until > pg_catalog.now()
           and (not p_write or t.kind = 'backup'));

    if not v_held and v_backup.build_id is not null then
        begin
            perform ops_private.held_lease(p_runner_id, v_backup.build_id, p_lease_id);
            v_held := true;
        exception when sqlstate 'OOL01' then
            v_held := false;
        end;
    end if;

    if not v_held and not p_write then
        select q.build_id into v_build_id from ops.run_queue q
         where q.lease_id = p_lease_id and q.lease_owner = p_runner_id and q.state = 'leased';
        v_held := v_build_id is not null and v_backup.status = 'succeeded' and exists (
            select 1 from ops.builds b
              join ops.branches staging on staging.id = b.branch_id and staging.stage = 'staging'
              join ops.branches production on production.id = v_backup.branch_id and production.stage = 'production'
             where b.id = v_build_id and b.project_id = v_backup.project_id and production.project_id = v_backup.project_id);
    end if;

    if not v_held then
        raise exception 'This runner holds no lease on backup %.', p_backup_id using errcode = 'OOL01';
    end if;
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
