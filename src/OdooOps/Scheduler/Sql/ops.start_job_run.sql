-- Claims a tick for p_job and records the run as 'running'. Returns the run id, or null when the tick already
-- has a run (another replica took it).
create or replace function ops.start_job_run(p_job text, p_node text, p_scheduled_for timestamptz)
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
revoke all on function ops.start_job_run(text, text, timestamptz) from public, ops_app, ops_service;
grant execute on function ops.start_job_run(text, text, timestamptz) to ops_service;
