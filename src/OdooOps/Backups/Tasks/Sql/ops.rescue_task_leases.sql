-- The rescuer's part for tasks (scheduler job `runner_rescue`): a running task whose lease ran out lost its runner.
-- With a cancel requested it is cancelled; before its last attempt it is queued again for the next sync of its runner
-- (its backup pending, its verification pending again); after it, it fails with "the runner stopped answering
-- (attempt N of M)", and so does its backup or verification. Each outcome is written into the task's log. Tasks
-- waiting on one that failed fail too (ops_private.fail_waiting_tasks; counted as failed), and so does a build's
-- backup its build left unrecorded.
create or replace function ops.rescue_task_leases()
returns table (requeued int, failed int, cancelled int)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_task       ops.runner_tasks;
    v_requeued   int := 0;
    v_failed     int := 0;
    v_cancelled  int := 0;
    v_why        text;
begin
    for v_task in
        select * from ops.runner_tasks t
         where t.status = 'running' and t.lease_until < pg_catalog.now()
           for update skip locked
    loop
        if v_task.cancel_requested then
            perform ops_private.end_runner_task(v_task.id, 'cancelled', 'Cancelled; the runner did not confirm before its lease ran out.',
                pg_catalog.format('Attempt %s: the runner stopped answering after the cancel request; the task is cancelled.', v_task.attempt));
            v_cancelled := v_cancelled + 1;
        elsif v_task.attempt < v_task.max_attempts then
            update ops.runner_tasks t set status = 'queued', lease_id = null, leased_runner_id = null, lease_until = null
             where t.id = v_task.id
            returning * into v_task;
            perform ops_private.settle_task_backup(v_task, 'queued', null);
            perform ops_private.task_system_line(v_task.id,
                pg_catalog.format('Attempt %s lost its runner (no heartbeat); queued again as attempt %s of %s.',
                                  v_task.attempt, v_task.attempt + 1, v_task.max_attempts));
            v_requeued := v_requeued + 1;
        else
            v_why := pg_catalog.format('the runner stopped answering (attempt %s of %s)', v_task.attempt, v_task.max_attempts);
            perform ops_private.end_runner_task(v_task.id, 'failed', v_why, 'Failed: ' || v_why || '.');
            v_failed := v_failed + 1;
        end if;
    end loop;
    v_failed := v_failed + ops_private.fail_waiting_tasks();
    -- A build's pre-deploy backup left unrecorded when the build's lease ended (its result, or the rescuer) never will be.
    update ops.backups b
       set status = 'failed', reason = 'the build that took it ended without recording it', finished_at = pg_catalog.now()
     where b.build_id is not null and b.status in ('pending', 'running')
       and not exists (select 1 from ops.run_queue q where q.build_id = b.build_id and q.state = 'leased');
    return query select v_requeued, v_failed, v_cancelled;
end
$$;
revoke all on function ops.rescue_task_leases() from public, ops_app, ops_service;
grant execute on function ops.rescue_task_leases() to ops_service;
