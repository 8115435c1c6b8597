-- Scheduler bookkeeping. A run's node holds the tick's advisory lock until it has recorded the outcome, so a
-- 'running' row whose lock nobody holds belongs to a node that died: the scheduler lists the candidates, takes
-- each one's lock to prove it (in C#, where the lock key is computed) and closes it with ops.finish_job_run.
create or replace function ops.running_job_runs(p_started_before timestamptz)
returns table (id bigint, job text, scheduled_for timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.id, r.job, r.scheduled_for from ops.job_runs r
     where r.outcome = 'running' and r.scheduled_for is not null and r.started_at < p_started_before
     order by r.id;
$$;
revoke all on function ops.running_job_runs(timestamptz) from public, ops_app, ops_service;
grant execute on function ops.running_job_runs(timestamptz) to ops_service;
