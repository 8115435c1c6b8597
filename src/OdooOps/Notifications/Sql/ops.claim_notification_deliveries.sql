-- The delivery workers' claim (every serve node runs one): up to p_limit deliveries due at p_now that no other worker
-- holds, each leased for p_lease_seconds (FOR UPDATE SKIP LOCKED: two nodes never take the same one) and counted as an
-- attempt, with what sending needs: the event's payload, the channel, and its secret's ciphertext. A lease that ran out
-- (its node died while sending) makes the delivery claimable again.
create or replace function ops.claim_notification_deliveries(p_now timestamptz, p_limit int, p_lease_seconds int)
returns table (delivery_id uuid, lease_id uuid, attempt int, event_id uuid, event text, event_created_at timestamptz, summary text,
               data jsonb, org_id uuid, channel_id uuid, channel_name text, kind text, target text, smtp_host text, smtp_port int, smtp_tls text,
               smtp_username text, smtp_from text, secret text)
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    with due as (
        select d.id
          from ops.notification_deliveries d
         where d.status = 'pending' and d.next_attempt_at <= p_now and (d.lease_until is null or d.lease_until <= p_now)
         order by d.next_attempt_at
         limit greatest(p_limit, 0)
           for update skip locked),
    claimed as (
        update ops.notification_deliveries d
           set lease_id = pg_catalog.gen_random_uuid(), lease_until = p_now + pg_catalog.make_interval(secs => p_lease_seconds),
               attempts = d.attempts + 1
          from due
         where d.id = due.id
        returning d.*)
    select c.id, c.lease_id, c.attempts, e.id, e.event, e.created_at, e.summary, e.data, ch.org_id, ch.id, ch.name, ch.kind, ch.target,
           ch.smtp_host, ch.smtp_port, ch.smtp_tls, ch.smtp_username, ch.smtp_from, s.secret
      from claimed c
      join ops_private.notification_events e on e.id = c.event_id
      join ops.notification_channels ch on ch.id = c.channel_id
      left join ops_private.notification_channel_secrets s on s.channel_id = ch.id
$$;
revoke all on function ops.claim_notification_deliveries(timestamptz, int, int) from public, ops_app, ops_service;
grant execute on function ops.claim_notification_deliveries(timestamptz, int, int) to ops_service;
