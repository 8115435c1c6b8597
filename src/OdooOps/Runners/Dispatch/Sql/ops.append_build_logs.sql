-- Appends log lines by sequence number; a line already stored (a re-sent batch) is skipped. A build's log is cut at
-- p_max_lines lines or at p_max_bytes bytes of line text, whichever comes first: the line past the cap and every later
-- one are dropped, and one 'system' line at that seq says so. The bytes so far and the cut are kept on the queue row,
-- locked by the lease check. Answers the lines stored and whether the log is cut (the runner stops sending then).
-- Wakes the log streams.
create or replace function ops.append_build_logs(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_seqs bigint[],
                                      p_ts timestamptz[], p_streams text[], p_lines text[], p_max_lines bigint,
                                      p_max_bytes bigint)
returns table (stored integer, cut boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease   ops.run_queue;
    v_cut     bigint;
    v_why     text;
    v_stored  int;
    v_bytes   bigint;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    select c.cut, c.why into v_cut, v_why
      from ops_private.log_cut(v_lease.log_bytes, v_lease.log_cut_at, p_seqs, p_lines,
                               array(select g.seq from ops.build_logs g where g.build_id = p_build_id and g.seq = any (p_seqs)),
                               p_max_lines, p_max_bytes) c;

    with added as (
        insert into ops.build_logs as t (build_id, project_id, seq, ts, stream, line)
        select p_build_id, v_lease.project_id, s.seq, coalesce(s.ts, pg_catalog.now()), s.stream, s.line
          from rows from (pg_catalog.unnest(p_seqs), pg_catalog.unnest(p_ts), pg_catalog.unnest(p_streams), pg_catalog.unnest(p_lines))
               as s(seq, ts, stream, line)
         where s.seq < p_max_lines and (v_cut is null or s.seq < v_cut)
        on conflict do nothing
        returning pg_catalog.octet_length(t.line) as bytes
    )
    select pg_catalog.count(*), coalesce(pg_catalog.sum(a.bytes), 0) into v_stored, v_bytes from added a;

    if v_why is not null then
        insert into ops.build_logs (build_id, project_id, seq, stream, line)
        values (p_build_id, v_lease.project_id, v_cut, 'system',
                pg_catalog.format('The log of this build is cut at %s; later lines were dropped.', v_why))
        on conflict do nothing;
    end if;
    update ops.run_queue q set log_bytes = q.log_bytes + v_bytes, log_cut_at = v_cut where q.build_id = p_build_id;
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
    return query select v_stored, v_cut is not null;
end
$$;
revoke all on function ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint, bigint) from public, ops_app, ops_service;
grant execute on function ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint, bigint) to ops_service;
