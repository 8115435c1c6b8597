-- Appends a task's log lines by sequence number under its lease (a re-sent batch is stored once), with the caps of a
-- build's log (OPS_BUILD_LOG_MAX_LINES / OPS_BUILD_LOG_MAX_BYTES): the line past a cap and every later one are
-- dropped, and one 'system' line at that seq says so. Answers the lines stored and whether the log is cut (the
-- runner stops sending then), and wakes the task's log streams (NOTIFY task_logs, payload the task id).
create or replace function ops.append_task_logs(p_runner_id uuid, p_task_id uuid, p_lease_id uuid, p_seqs bigint[],
                                                p_ts timestamptz[], p_streams text[], p_lines text[], p_max_lines bigint,
                                                p_max_bytes bigint)
returns table (stored integer, cut boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_task    ops.runner_tasks;
    v_cut     bigint;
    v_why     text;
    v_stored  int;
    v_bytes   bigint;
begin
    v_task := ops_private.held_task_lease(p_runner_id, p_task_id, p_lease_id);
    select c.cut, c.why into v_cut, v_why
      from ops_private.log_cut(v_task.log_bytes, v_task.log_cut_at, p_seqs, p_lines,
                               array(select g.seq from ops.runner_task_logs g where g.task_id = p_task_id and g.seq = any (p_seqs)),
                               p_max_lines, p_max_bytes) c;

    with added as (
        insert into ops.runner_task_logs as g (task_id, project_id, seq, ts, stream, line)
        select p_task_id, v_task.project_id, s.seq, coalesce(s.ts, pg_catalog.now()), s.stream, s.line
          from rows from (pg_catalog.unnest(p_seqs), pg_catalog.unnest(p_ts), pg_catalog.unnest(p_streams), pg_catalog.unnest(p_lines))
               as s(seq, ts, stream, line)
         where s.seq < p_max_lines and (v_cut is null or s.seq < v_cut)
        on conflict do nothing
        returning pg_catalog.octet_length(g.line) as bytes
    )
    select pg_catalog.count(*), coalesce(pg_catalog.sum(a.bytes), 0) into v_stored, v_bytes from added a;

    if v_why is not null then
        insert into ops.runner_task_logs (task_id, project_id, seq, stream, line)
        values (p_task_id, v_task.project_id, v_cut, 'system',
                pg_catalog.format('The log of this task is cut at %s; later lines were dropped.', v_why))
        on conflict do nothing;
    end if;
    update ops.runner_tasks t set log_bytes = t.log_bytes + v_bytes, log_cut_at = v_cut where t.id = p_task_id;
    if v_stored > 0 or v_why is not null then
        perform pg_catalog.pg_notify('task_logs', p_task_id::text);
    end if;
    return query select v_stored, v_cut is not null;
end
$$;
revoke all on function ops.append_task_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint, bigint) from public, ops_app, ops_service;
grant execute on function ops.append_task_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint, bigint) to ops_service;
