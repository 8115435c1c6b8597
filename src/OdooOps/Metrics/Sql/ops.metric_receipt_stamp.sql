-- The received_at of the samples a transaction inserts. Call it once per transaction, right before the insert.
create or replace function ops.metric_receipt_stamp()
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended('ops.metric_samples:receipts', 0));
    return pg_catalog.clock_timestamp();
end
$$;
revoke all on function ops.metric_receipt_stamp() from public, ops_app, ops_service;
