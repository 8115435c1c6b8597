-- Appends log lines by sequence number; a line already stored (a re-sent batch) is skipped. Lines numbered at or
-- past p_max_lines are dropped and one 'system' line at that number says so. Wakes the log streams.
create or replace function ops.append_build_logs(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_seqs bigint[],
                                      p_ts timestamptz[], p_streams text[], p_lines text[], p_max_lines bigint)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease     ops.run_queue;
    v_inserted  int;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    insert into ops.build_logs (build_id, project_id, seq, ts, stream, line)
    select p_build_id, v_lease.project_id, s.seq, coalesce(s.ts, pg_catalog.now()), s.stream, s.line
      from rows from (pg_catalog.unnest(p_seqs), pg_catalog.unnest(p_ts), pg_catalog.unnest(p_streams), pg_catalog.unnest(p_lines))
           as s(seq, ts, stream, line)
     where s.seq < p_max_lines
    on conflict do nothing;
    get diagnostics v_inserted = row_count;
    if exists (select 1 from pg_catalog.unnest(p_seqs) x where x >= p_max_lines) then
        insert into ops.build_logs (build_id, project_id, seq, stream, line)
        values (p_build_id, v_lease.project_id, p_max_lines, 'system',
                pg_catalog.format('The log of this build is cut at %s lines (OPS_BUILD_LOG_MAX_LINES); later lines were dropped.', p_max_lines))
        on conflict do nothing;
    end if;
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
    return v_inserted;
end
$$;
revoke all on function ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint) from public, ops_app, ops_service;
grant execute on function ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint) to ops_service;
