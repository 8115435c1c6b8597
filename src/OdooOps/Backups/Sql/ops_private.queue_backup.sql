-- Queues a backup of a branch: the ops.backups row (pending) and, unless a build takes it itself (p_build_id: a
-- production build's pre-deploy backup, taken by the build's runner before its update), a 'backup' runner task on the
-- branch's host (ops_private.backup_host), whose sync is woken (NOTIFY instance_actions, payload the runner id). A
-- branch no runner hosts gets its backup failed at once, with the reason, never a task that waits forever. Rules about
-- who may ask and how often belong to the callers (ops.request_backup, the daily schedule, restores, builds).
-- Returns the backup's id.
create or replace function ops_private.queue_backup(p_branch_id uuid, p_kind text, p_requested_by uuid, p_build_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch  ops.branches;
    v_runner  uuid;
    v_db      text;
    v_id      uuid;
begin
    if p_kind is null or p_kind not in ('daily', 'manual', 'pre-deploy', 'pre-restore') then
        raise exception 'kind must be daily, manual, pre-deploy or pre-restore (got %)', coalesce(p_kind, 'null') using errcode = '22023';
    end if;
    select * into v_branch from ops.branches b where b.id = p_branch_id;
    if not found then
        raise exception 'branch % not found', p_branch_id using errcode = 'P0002';
    end if;
    select h.runner_id, h.database_name into v_runner, v_db from ops_private.backup_host(p_branch_id) h;

    if p_build_id is not null then
        insert into ops.backups (project_id, branch_id, kind, runner_id, build_id, requested_by, database_name)
        select v_branch.project_id, v_branch.id, p_kind, coalesce(bu.runner_id, v_runner), bu.id, p_requested_by, v_db
          from ops.builds bu
         where bu.id = p_build_id and bu.branch_id = p_branch_id
        returning id into v_id;
        if v_id is null then
            raise exception 'build % of branch % not found', p_build_id, p_branch_id using errcode = 'P0002';
        end if;
        return v_id;
    end if;

    if v_runner is null then
        insert into ops.backups (project_id, branch_id, kind, status, reason, requested_by, finished_at)
        values (v_branch.project_id, v_branch.id, p_kind, 'failed',
                pg_catalog.format('No runner hosts %s: it has no current instance and is not pinned to a host, so there is no database to back up.', v_branch.name),
                p_requested_by, pg_catalog.now())
        returning id into v_id;
        return v_id;
    end if;

    insert into ops.backups (project_id, branch_id, kind, runner_id, requested_by, database_name)
    values (v_branch.project_id, v_branch.id, p_kind, v_runner, p_requested_by, v_db)
    returning id into v_id;
    insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id, requested_by)
    values (v_branch.project_id, v_branch.id, 'backup', v_id, v_runner, p_requested_by);
    perform pg_catalog.pg_notify('instance_actions', v_runner::text);
    return v_id;
end
$$;
revoke all on function ops_private.queue_backup(uuid, text, uuid, uuid) from public, ops_app, ops_service;
