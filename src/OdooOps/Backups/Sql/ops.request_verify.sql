-- A person's request to verify a backup again (restore it into a scratch database, check, drop: ops_private.queue_verify).
-- Not found or not visible: P0002. Below ops.backup_role of its branch's stage: 42501 in words. Not taken, pruned, or a
-- verification already queued or running: 55000. Returns the verify task's id; the audit row is the caller's use case's.
create or replace function ops.request_verify(p_backup_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups := ops_private.visible_backup(p_backup_id);
    v_branch  ops.branches;
begin
    select * into v_branch from ops.branches b where b.id = v_backup.branch_id;
    perform ops_private.backup_refusal(v_branch, 'Verifying a backup of');
    if v_backup.deleted_at is not null or v_backup.status <> 'succeeded' then
        raise exception 'Only a backup that was taken and is still kept can be verified; this one is %.',
            case when v_backup.deleted_at is not null then 'pruned' else v_backup.status end using errcode = '55000';
    end if;
    perform 1 from ops.backups k where k.id = p_backup_id for update; -- two requests: the second sees the first's task
    if exists (select 1 from ops.runner_tasks t where t.backup_id = p_backup_id and t.kind = 'verify' and t.status in ('queued', 'running')) then
        raise exception 'A verification of this backup is already queued or running.' using errcode = '55000';
    end if;
    return ops_private.queue_verify(p_backup_id);
end
$$;
revoke all on function ops.request_verify(uuid) from public, ops_app, ops_service;
grant execute on function ops.request_verify(uuid) to ops_app;
