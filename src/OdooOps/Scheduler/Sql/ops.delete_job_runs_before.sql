-- Finished runs older than p_before, deleted (the retention job; a run every 30 s adds up to 2,880 rows a day).
-- A run's age is its tick, on the scheduler's clock like p_before (the start time for a run without a tick).
create or replace function ops.delete_job_runs_before(p_before timestamptz)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_deleted integer;
begin
    delete from ops.job_runs r where r.outcome <> 'running' and coalesce(r.scheduled_for, r.started_at) < p_before;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;
revoke all on function ops.delete_job_runs_before(timestamptz) from public, ops_app, ops_service;
grant execute on function ops.delete_job_runs_before(timestamptz) to ops_service;
