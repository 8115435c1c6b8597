-- A person's cancel of a backup's task (taking it, verifying it, restoring it): queued → cancelled at once (a backup it
-- was to take fails as cancelled; a verification goes back to pending); running → cancel_requested, which the runner's
-- next heartbeat answers, and the task ends cancelled when the runner gives up on it (or its lease runs out); asked
-- again while requested → returned unchanged. Who may: whoever may ask for that task (ops_private.backup_refusal on
-- the task's branch — the backed-up branch, or a restore's target: admin on production, tester elsewhere; 42501 in
-- words). Unknown or invisible: P0002. Ended already: 55000. Audited (runner_task.cancel) when it changes something.
-- SECURITY DEFINER: the request role may only read ops.runner_tasks, so a user's call is checked here
-- (ops_private.is_request_session).
create or replace function ops.cancel_runner_task(p_task_id uuid, p_ip inet default null)
returns ops.runner_tasks
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user    boolean := ops_private.is_request_session();
    v_task    ops.runner_tasks;
    v_branch  ops.branches;
    v_was     text;
begin
    select * into v_task from ops.runner_tasks t
     where t.id = p_task_id and (not v_user or t.project_id = any (ops.visible_project_ids()))
       for update;
    if not found then
        raise exception 'task % not found', p_task_id using errcode = 'P0002';
    end if;
    select * into v_branch from ops.branches b where b.id = v_task.branch_id;
    perform ops_private.backup_refusal(v_branch, pg_catalog.format('Cancelling a %s task of', v_task.kind));
    if v_task.status not in ('queued', 'running') then
        raise exception 'The % task % is % already; there is nothing to cancel.', v_task.kind, p_task_id, v_task.status
            using errcode = '55000';
    end if;
    if v_task.cancel_requested then
        return v_task;
    end if;

    v_was := v_task.status;
    if v_task.status = 'queued' then
        v_task := ops_private.end_runner_task(p_task_id, 'cancelled', 'cancelled before it started', 'Cancelled before it started.');
    else
        -- No line in its log now: while it runs, its runner numbers the lines.
        update ops.runner_tasks t set cancel_requested = true where t.id = p_task_id returning * into v_task;
        perform pg_catalog.pg_notify('task_logs', p_task_id::text);
    end if;
    perform ops.write_audit(case when v_user then 'user' else 'system' end, 'runner_task.cancel', 'runner_task', p_task_id::text,
                            (select p.org_id from ops.projects p where p.id = v_task.project_id), v_task.project_id,
                            pg_catalog.jsonb_build_object('status', v_was),
                            pg_catalog.jsonb_build_object('status', v_task.status, 'cancel_requested', v_task.cancel_requested,
                                                          'kind', v_task.kind, 'branch', v_branch.name, 'backup_id', v_task.backup_id),
                            p_ip);
    return v_task;
end
$$;
revoke all on function ops.cancel_runner_task(uuid, inet) from public, ops_app, ops_service;
grant execute on function ops.cancel_runner_task(uuid, inet) to ops_app;
