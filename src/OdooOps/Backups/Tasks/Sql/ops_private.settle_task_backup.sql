-- What a task's new status means for its backup, in one place for the claim, the runner's result, the rescuer and a
-- cancel. A backup task: running → the backup is running (on this runner, of the branch's database here); queued
-- again → pending; failed or cancelled → the backup failed with the reason (unless the runner already recorded it).
-- A verify task: running → verification running; queued again → pending; failed → verification failed with the reason
-- (a verification that could not end proves nothing); cancelled → pending again, with the reason. A verify task's
-- verdict and a restore task's end are recorded by ops.finish_runner_task itself.
create or replace function ops_private.settle_task_backup(p_task ops.runner_tasks, p_status text, p_reason text)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_task.kind = 'backup' then
        if p_status = 'running' then
            update ops.backups b
               set status = 'running', started_at = coalesce(b.started_at, pg_catalog.now()), runner_id = p_task.leased_runner_id,
                   database_name = coalesce((select i.database_name from ops.instances i
                                              where i.branch_id = p_task.branch_id and i.is_current and i.retired_at is null
                                                and i.runner_id = p_task.leased_runner_id), b.database_name)
             where b.id = p_task.backup_id and b.status in ('pending', 'running');
        elsif p_status = 'queued' then
            update ops.backups b set status = 'pending' where b.id = p_task.backup_id and b.status = 'running';
        elsif p_status in ('failed', 'cancelled') then
            update ops.backups b set status = 'failed', reason = pg_catalog.left(p_reason, 2000), finished_at = pg_catalog.now()
             where b.id = p_task.backup_id and b.status in ('pending', 'running');
        end if;
    elsif p_task.kind = 'verify' then
        if p_status = 'running' then
            update ops.backups b set verification = 'running', verification_reason = null where b.id = p_task.backup_id;
        elsif p_status = 'queued' then
            update ops.backups b set verification = 'pending' where b.id = p_task.backup_id and b.verification = 'running';
        elsif p_status = 'failed' then
            update ops.backups b
               set verification = 'failed', verification_reason = pg_catalog.left(p_reason, 2000), verified_at = pg_catalog.now()
             where b.id = p_task.backup_id and b.verification in ('pending', 'running');
        elsif p_status = 'cancelled' then
            update ops.backups b set verification = 'pending', verification_reason = pg_catalog.left(p_reason, 2000)
             where b.id = p_task.backup_id and b.verification in ('pending', 'running');
        end if;
    end if;
end
$$;
revoke all on function ops_private.settle_task_backup(ops.runner_tasks, text, text) from public, ops_app, ops_service;
