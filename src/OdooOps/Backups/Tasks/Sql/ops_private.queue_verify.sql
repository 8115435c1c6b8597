-- Queues the verification of a succeeded backup (after every backup, and when someone asks for one again): a `verify`
-- task on the runner that took it (while it is enabled and hosts instances), else on the branch's host (its pin, else the runner of its current instance; none:
-- placed nowhere, the branch's next host takes it). The backup's verification is pending again. A verification
-- already queued or running is answered instead of a second. Not found: P0002; a backup not succeeded: 55000.
create or replace function ops_private.queue_verify(p_backup_id uuid)
returns uuid
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups;
    v_id      uuid;
begin
    select * into v_backup from ops.backups b where b.id = p_backup_id for update;
    if not found then
        raise exception 'backup % not found', p_backup_id using errcode = 'P0002';
    end if;
    if v_backup.status <> 'succeeded' or v_backup.deleted_at is not null then
        raise exception 'Only a succeeded backup can be verified; this one is %.',
            case when v_backup.deleted_at is not null then 'deleted' else v_backup.status end using errcode = '55000';
    end if;
    select t.id into v_id from ops.runner_tasks t
     where t.backup_id = p_backup_id and t.kind = 'verify' and t.status in ('queued', 'running');
    if found then
        return v_id;
    end if;
    insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id)
    values (v_backup.project_id, v_backup.branch_id, 'verify', p_backup_id,
            coalesce((select r.id from ops.runners r
                       where r.id = v_backup.runner_id and r.disabled_at is null and r.serves_instances),
                     (select br.runner_id from ops.branches br where br.id = v_backup.branch_id),
                     (select i.runner_id from ops.instances i where i.branch_id = v_backup.branch_id and i.is_current and i.retired_at is null)))
    returning id into v_id;
    update ops.backups b set verification = 'pending', verification_reason = null, verified_at = null where b.id = p_backup_id;
    return v_id;
end
$$;
revoke all on function ops_private.queue_verify(uuid) from public, ops_app, ops_service;
