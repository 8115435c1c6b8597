-- A queued task waits for the task its options name as `after` (a restore for its pre-restore backup) to succeed; if
-- that one failed or was cancelled, the waiting task can never run safely and fails with the reason. Run by every
-- claim and by the rescuer; answers how many failed.
create or replace function ops_private.fail_waiting_tasks()
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row    record;
    v_count  int := 0;
    v_why    text;
begin
    for v_row in
        select w.id, a.status, a.detail
          from ops.runner_tasks w
          join ops.runner_tasks a on a.id::text = w.options ->> 'after'
         where w.status = 'queued' and a.status in ('failed', 'cancelled')
           for update of w skip locked
    loop
        v_why := 'the pre-restore backup failed: ' || coalesce(v_row.detail, v_row.status);
        perform ops_private.end_runner_task(v_row.id, 'failed', v_why, 'Not started: ' || v_why);
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
revoke all on function ops_private.fail_waiting_tasks() from public, ops_app, ops_service;
