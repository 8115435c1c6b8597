-- Ends a run started by ops.start_job_run with success or failed. A run that has already ended is left as it is
-- (returns false), so a late finish can never overwrite an outcome.
create or replace function ops.finish_job_run(p_id bigint, p_outcome text, p_detail text)
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
revoke all on function ops.finish_job_run(bigint, text, text) from public, ops_app, ops_service;
grant execute on function ops.finish_job_run(bigint, text, text) to ops_service;
