-- The one rule of a runner's right to a backup, for every runner call on one: its zip's upload and read
-- (ops.backup_artifact_lease), the record of what was stored (ops.record_backup_artifact) and the report of the backup
-- (ops.finish_backup). The runner holds a lease that entitles it:
--  * a running task of this backup leased to it under this lease — writing (upload, record, report) only a 'backup'
--    task; verify and restore tasks read;
--  * the build that takes this backup (ops.backups.build_id: a pre-deploy backup) while it holds the build's lease: it
--    writes the zip, and reads it back to revert a failed update;
--  * reading only: a staging build of the same project, while it holds that build's lease, copying a succeeded backup
--    of the project's production branch (the staging refresh).
-- As for builds (ops_private.held_lease) and tasks (ops_private.held_task_lease), a lease past its time is still held
-- until the rescuer takes it back (a late heartbeat renews it; nothing else can run the work meanwhile); once taken
-- back, its task is no longer running under it, and its build's queue row no longer leased under it.
-- Returns the backup's row, locked when writing. Unknown or pruned backup: P0002 (404). No such right: OOL01 (409).
-- The backup's own state (taken already, no zip yet, a repeated report) is the caller's to judge.
create or replace function ops_private.backup_right(p_runner_id uuid, p_backup_id uuid, p_lease_id uuid, p_write boolean)
returns ops.backups
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups;
begin
    if p_write then
        select * into v_backup from ops.backups b where b.id = p_backup_id and b.deleted_at is null for update;
    else
        select * into v_backup from ops.backups b where b.id = p_backup_id and b.deleted_at is null;
    end if;
    if not found then
        raise exception 'Unknown backup %.', p_backup_id using errcode = 'P0002';
    end if;
    if exists (select 1 from ops.runner_tasks t
                where t.backup_id = p_backup_id and t.status = 'running' and t.leased_runner_id = p_runner_id
                  and t.lease_id = p_lease_id and (not p_write or t.kind = 'backup'))
       or exists (select 1 from ops.run_queue q
                   where q.build_id = v_backup.build_id and q.state = 'leased' and q.lease_owner = p_runner_id
                     and q.lease_id = p_lease_id)
       or (not p_write and v_backup.status = 'succeeded' and exists (
               select 1 from ops.run_queue q
                 join ops.builds b on b.id = q.build_id and b.project_id = v_backup.project_id
                 join ops.branches staging on staging.id = b.branch_id and staging.stage = 'staging'
                 join ops.branches production on production.id = v_backup.branch_id and production.stage = 'production'
                where q.state = 'leased' and q.lease_owner = p_runner_id and q.lease_id = p_lease_id)) then
        return v_backup;
    end if;
    raise exception 'This runner holds no lease on backup %.', p_backup_id using errcode = 'OOL01';
end
$$;
revoke all on function ops_private.backup_right(uuid, uuid, uuid, boolean) from public, ops_app, ops_service;
