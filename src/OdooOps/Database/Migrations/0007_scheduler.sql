-- The in-process scheduler of `serve` (src/OdooOps/Scheduler/): every replica runs the same cron schedule, and
-- each (job, scheduled tick) must run once. The replica that wins pg_try_advisory_lock for the tick claims it
-- with a row here; the unique index makes the claim durable, so a replica that reaches the tick after the winner
-- has released its lock (a lagging clock, a slow start) finds the row and runs nothing.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

alter table ops.job_runs add column scheduled_for timestamptz;
comment on column ops.job_runs.scheduled_for is 'The cron tick (UTC) this run belongs to; null for a run that is not tied to a tick.';

create unique index job_runs_job_tick_key on ops.job_runs (job, scheduled_for);

-- Claims a tick for p_job and records the run as 'running'. Returns the run id, or null when the tick already
-- has a run (another replica took it).
create function ops.start_job_run(p_job text, p_node text, p_scheduled_for timestamptz)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id bigint;
begin
    if p_job is null or p_job !~ '^[a-z][a-z0-9_]{0,62}$' then
        raise exception 'start_job_run: invalid job name %', coalesce(p_job, 'null') using errcode = '22023';
    end if;
    insert into ops.job_runs (job, node, scheduled_for)
    values (p_job, pg_catalog.left(p_node, 200), p_scheduled_for)
    on conflict (job, scheduled_for) do nothing
    returning id into v_id;
    return v_id;
end
$$;
revoke execute on function ops.start_job_run(text, text, timestamptz) from public;
grant execute on function ops.start_job_run(text, text, timestamptz) to ops_service;

-- Ends a run started by ops.start_job_run with success or failed. A run that has already ended is left as it is
-- (returns false), so a late finish can never overwrite an outcome.
create function ops.finish_job_run(p_id bigint, p_outcome text, p_detail text)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_outcome is null or p_outcome not in ('success', 'failed') then
        raise exception 'finish_job_run: outcome must be success or failed (got %)', coalesce(p_outcome, 'null')
            using errcode = '22023';
    end if;
    update ops.job_runs
       set outcome = p_outcome, finished_at = pg_catalog.clock_timestamp(), detail = pg_catalog.left(p_detail, 4000)
     where id = p_id and outcome = 'running';
    return found;
end
$$;
revoke execute on function ops.finish_job_run(bigint, text, text) from public;
grant execute on function ops.finish_job_run(bigint, text, text) to ops_service;
