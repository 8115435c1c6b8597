-- Ends a task for good (succeeded, failed or cancelled) with its detail, settles its backup (ops_private.settle_task_backup)
-- and, when the server ends it rather than its runner, says why in its log (p_line). Answers the ended row.
create or replace function ops_private.end_runner_task(p_task_id uuid, p_status text, p_detail text, p_line text default null,
                                                       p_result jsonb default null)
returns ops.runner_tasks
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_task ops.runner_tasks;
begin
    update ops.runner_tasks t
       set status = p_status, detail = pg_catalog.left(p_detail, 4000), finished_at = pg_catalog.now(), lease_until = null,
           result = coalesce(p_result, t.result)
     where t.id = p_task_id
    returning * into strict v_task;
    perform ops_private.settle_task_backup(v_task, p_status, p_detail);
    if p_line is not null then
        perform ops_private.task_system_line(p_task_id, p_line);
    else
        perform pg_catalog.pg_notify('task_logs', p_task_id::text);
    end if;
    return v_task;
end
$$;
revoke all on function ops_private.end_runner_task(uuid, text, text, text, jsonb) from public, ops_app, ops_service;
