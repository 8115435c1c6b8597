-- Retention of rollups: deletes at most p_batch rows of one resolution ('minute' or 'hour') whose bucket is before
-- p_before, so that a large backlog is removed in short transactions. Returns how many were deleted; callers repeat
-- until it returns fewer than p_batch.
create or replace function ops.delete_metric_rollups_before(p_resolution text, p_before timestamptz, p_batch integer)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_deleted int;
begin
    if p_before is null or p_batch is null or p_batch < 1 then
        raise exception 'delete_metric_rollups_before: p_before and a positive p_batch are required' using errcode = '22023';
    end if;
    if p_resolution = 'minute' then
        delete from ops.metric_rollups_minute r
         where r.ctid = any (array(select x.ctid from ops.metric_rollups_minute x where x.bucket < p_before limit p_batch));
    elsif p_resolution = 'hour' then
        delete from ops.metric_rollups_hour r
         where r.ctid = any (array(select x.ctid from ops.metric_rollups_hour x where x.bucket < p_before limit p_batch));
    else
        raise exception 'delete_metric_rollups_before: resolution must be minute or hour (got %)', coalesce(p_resolution, 'null')
            using errcode = '22023';
    end if;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;
revoke all on function ops.delete_metric_rollups_before(text, timestamptz, integer) from public, ops_app, ops_service;
grant execute on function ops.delete_metric_rollups_before(text, timestamptz, integer) to ops_service;
