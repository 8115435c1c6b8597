-- A line of the server's own in a task's log (a lease lost, a cancel, a task that cannot start), after the lines the
-- runner sent, and the task's log streams woken. The next attempt's log_seq_start comes after it.
create or replace function ops_private.task_system_line(p_task_id uuid, p_line text)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_seq bigint;
begin
    select greatest(t.log_seq_next, coalesce((select pg_catalog.max(g.seq) + 1 from ops.runner_task_logs g where g.task_id = t.id), 0))
      into v_seq
      from ops.runner_tasks t where t.id = p_task_id;
    insert into ops.runner_task_logs (task_id, project_id, seq, stream, line)
    select t.id, t.project_id, v_seq, 'system', pg_catalog.left(p_line, 16384) from ops.runner_tasks t where t.id = p_task_id;
    update ops.runner_tasks t set log_seq_next = v_seq + 1 where t.id = p_task_id;
    perform pg_catalog.pg_notify('task_logs', p_task_id::text);
end
$$;
revoke all on function ops_private.task_system_line(uuid, text) from public, ops_app, ops_service;
