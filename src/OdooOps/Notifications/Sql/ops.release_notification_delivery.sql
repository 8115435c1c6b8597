-- A claimed delivery its worker certainly did not send — picked up with too little of its lease left, or stopped by the
-- server's shutdown before any of it was written — goes back to pending under that lease, as if never claimed: its
-- attempt is not counted and it is due as before (one a claim already made 'unknown' for its expired lease too: it is
-- known now that nothing left). A lease that is not the delivery's any more releases nothing. Answers whether it was released.
create or replace function ops.release_notification_delivery(p_delivery_id uuid, p_lease_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update ops.notification_deliveries d
       set status = 'pending', attempts = greatest(d.attempts - 1, 0), lease_id = null, lease_until = null,
           next_attempt_at = coalesce(d.next_attempt_at, d.last_attempt_at, pg_catalog.now()),
           last_attempt_at = case when d.attempts > 1 then d.last_attempt_at end,
           error = case when d.status = 'unknown' then null else d.error end
     where d.id = p_delivery_id and d.lease_id = p_lease_id and d.status in ('pending', 'unknown');
    return found;
end
$$;
revoke all on function ops.release_notification_delivery(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.release_notification_delivery(uuid, uuid) to ops_service;
