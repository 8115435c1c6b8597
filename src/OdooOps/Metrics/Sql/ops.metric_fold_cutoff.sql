-- The time up to which samples may be folded. Call it in a transaction of its own (autocommit): the exclusive lock
-- it takes blocks ingest until that transaction ends.
create or replace function ops.metric_fold_cutoff()
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_catalog.set_config('lock_timeout', '10s', true);
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ops.metric_samples:receipts', 0));
    return pg_catalog.clock_timestamp();
end
$$;
revoke all on function ops.metric_fold_cutoff() from public, ops_app, ops_service;
grant execute on function ops.metric_fold_cutoff() to ops_service;
