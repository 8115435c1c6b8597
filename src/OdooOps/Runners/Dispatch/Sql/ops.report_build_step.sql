-- A step started (status running) or finished (its final status, exit code and duration).
create or replace function ops.report_build_step(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_seq int, p_name text,
                                      p_status text, p_exit_code int, p_started_at timestamptz, p_duration_ms bigint)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease ops.run_queue;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    insert into ops.build_steps (build_id, project_id, seq, name, status, exit_code, started_at, finished_at, duration_ms)
    values (p_build_id, v_lease.project_id, p_seq, pg_catalog.left(p_name, 200), p_status, p_exit_code,
            coalesce(p_started_at, pg_catalog.now()),
            case when p_status not in ('pending', 'running') then pg_catalog.now() end, p_duration_ms)
    on conflict (build_id, seq) do update
       set name = excluded.name, status = excluded.status, exit_code = excluded.exit_code,
           started_at = coalesce(ops.build_steps.started_at, excluded.started_at),
           finished_at = excluded.finished_at, duration_ms = excluded.duration_ms;
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
end
$$;
revoke all on function ops.report_build_step(uuid, uuid, uuid, int, text, text, int, timestamptz, bigint) from public, ops_app, ops_service;
grant execute on function ops.report_build_step(uuid, uuid, uuid, int, text, text, int, timestamptz, bigint) to ops_service;
