-- Queues the restore of a backup into a branch of its project, on the branch's host, and returns the restore task's id.
-- Into production: a pre-restore backup of the branch first, and the restore waits for it (options {"after": <that
-- backup task>}: it runs only once that task succeeded, and fails if it did not). Into staging or development: the
-- restored database is neutralised ({"neutralize": true}). Refused (55000, in words): a backup not taken, pruned or
-- that failed verification; an archived branch; a branch no runner hosts; a restore into it already queued or running.
-- Another project's branch is 22023 naming branch_id. Who may ask is the caller's rule (ops.request_restore, rollbacks).
create or replace function ops_private.queue_restore(p_backup_id uuid, p_branch_id uuid, p_requested_by uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup   ops.backups;
    v_branch   ops.branches;
    v_runner   uuid;
    v_pre      uuid;
    v_options  jsonb;
    v_task     uuid;
begin
    select * into v_backup from ops.backups k where k.id = p_backup_id;
    if not found then
        raise exception 'backup % not found', p_backup_id using errcode = 'P0002';
    end if;
    -- Locked: two restores into one branch serialize here, and the second sees the first.
    select * into v_branch from ops.branches b where b.id = p_branch_id and b.project_id = v_backup.project_id for no key update;
    if not found then
        raise exception 'No such branch in this backup''s project: a backup is restored into a branch of its own project only.'
            using errcode = '22023', column = 'branch_id';
    end if;
    if v_branch.archived_at is not null then
        raise exception 'Branch % is archived: nothing runs there to restore into.', v_branch.name using errcode = '55000';
    end if;
    if v_backup.deleted_at is not null then
        raise exception 'This backup was pruned on %: its file is gone.',
            pg_catalog.to_char(v_backup.deleted_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') using errcode = '55000';
    end if;
    if v_backup.status <> 'succeeded' then
        raise exception 'This backup is %, not taken: only a succeeded backup can be restored.', v_backup.status using errcode = '55000';
    end if;
    if v_backup.verification = 'failed' then
        raise exception 'This backup failed verification (%): restoring it could leave % broken. Restore another backup.',
            coalesce(v_backup.verification_reason, 'no reason recorded'), v_branch.name using errcode = '55000';
    end if;
    if exists (select 1 from ops.runner_tasks t
                where t.branch_id = p_branch_id and t.kind = 'restore' and t.status in ('queued', 'running')) then
        raise exception 'A restore into % is already queued or running; wait for it to finish.', v_branch.name using errcode = '55000';
    end if;
    select h.runner_id into v_runner from ops_private.backup_host(p_branch_id) h;
    if v_runner is null then
        raise exception 'No runner hosts %: build it first, so that it has an instance to restore into.', v_branch.name using errcode = '55000';
    end if;

    if v_branch.stage = 'production' then
        v_pre := ops_private.queue_backup(p_branch_id, 'pre-restore', p_requested_by, null);
        select pg_catalog.jsonb_build_object('after', t.id) into v_options
          from ops.runner_tasks t where t.backup_id = v_pre and t.kind = 'backup';
        if v_options is null then
            raise exception 'The pre-restore backup of % could not be queued; nothing was restored.', v_branch.name using errcode = '55000';
        end if;
    else
        v_options := '{"neutralize": true}';
    end if;
    insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id, options, requested_by)
    values (v_branch.project_id, p_branch_id, 'restore', p_backup_id, v_runner, v_options, p_requested_by)
    returning id into v_task;
    perform pg_catalog.pg_notify('instance_actions', v_runner::text);
    return v_task;
end
$$;
revoke all on function ops_private.queue_restore(uuid, uuid, uuid) from public, ops_app, ops_service;
