-- The webhook_deliveries job: forgets the deliveries received before p_before (the replay window is 24 hours; each
-- push also forgets its own project's older ones). Returns how many went.
create or replace function ops.prune_webhook_deliveries(p_before timestamptz)
returns integer
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    with gone as (delete from ops_private.webhook_deliveries d where d.received_at < p_before returning 1)
    select pg_catalog.count(*)::integer from gone
$$;
revoke all on function ops.prune_webhook_deliveries(timestamptz) from public, ops_app, ops_service;
grant execute on function ops.prune_webhook_deliveries(timestamptz) to ops_service;
