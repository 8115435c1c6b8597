-- When the next pending delivery is due (its next attempt, or the end of the lease a worker holds on it); null when
-- none waits. The delivery workers sleep until then at most.
create or replace function ops.next_notification_due()
returns timestamptz
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.min(greatest(d.next_attempt_at, coalesce(d.lease_until, d.next_attempt_at)))
      from ops.notification_deliveries d
     where d.status = 'pending'
$$;
revoke all on function ops.next_notification_due() from public, ops_app, ops_service;
grant execute on function ops.next_notification_due() to ops_service;
