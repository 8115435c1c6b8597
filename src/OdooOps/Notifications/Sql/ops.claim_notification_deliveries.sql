-- The delivery workers' claim (every serve node runs one): up to p_limit deliveries due at p_now that no other worker
-- holds, each leased until p_now + p_lease_seconds (FOR UPDATE SKIP LOCKED: two nodes never take the same one) and
-- counted as an attempt, with what sending needs: the event's payload, the channel, and its secret's ciphertext.
-- At most once per event and channel: the lease covers an attempt's whole deadline with time to record it, so a lease
-- that runs out means its worker stopped (died, froze, lost the database) while sending, and whether the receiver got
-- it is unknown. Such a delivery is never sent again by itself: it ends 'unknown' (a person may redeliver it), and its
-- worker's answer, should it still come, is recorded under the lease it kept. One that used up p_max_attempts (the
-- setting was lowered, or it was left so) ends 'failed' instead of being claimed forever.
-- An e-mail channel on the server's own SMTP server reaches only the recipients ops_private.notification_recipient_allowed
-- lets it (the organisation's members, p_email_domains); the others are left out of target.
create or replace function ops.claim_notification_deliveries(p_now timestamptz, p_limit int, p_lease_seconds int, p_max_attempts int,
                                                             p_email_domains text[])
returns table (delivery_id uuid, lease_id uuid, lease_until timestamptz, attempt int, event_id uuid, event text, event_created_at timestamptz,
               summary text, data jsonb, org_id uuid, channel_id uuid, channel_name text, kind text, target text, smtp_host text, smtp_port int,
               smtp_tls text, smtp_username text, smtp_from text, secret text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    update ops.notification_deliveries d
       set status = 'unknown', next_attempt_at = null, lease_until = null,
           error = 'Outcome unknown: the server sending it stopped before the receiver''s answer was recorded. It is not sent again by itself; '
                   || 'redeliver it if the receiver did not get it.'
      from (select x.id from ops.notification_deliveries x
             where x.status = 'pending' and x.lease_until <= p_now
               for update skip locked) expired
     where d.id = expired.id;

    update ops.notification_deliveries d
       set status = 'failed', next_attempt_at = null,
           error = pg_catalog.left('Gave up after ' || d.attempts || ' attempts' || coalesce(': ' || d.error, '.'), 2000)
      from (select x.id from ops.notification_deliveries x
             where x.status = 'pending' and x.lease_until is null and x.attempts >= greatest(p_max_attempts, 1)
               for update skip locked) spent
     where d.id = spent.id;

    return query
    with due as (
        select x.id
          from ops.notification_deliveries x
         where x.status = 'pending' and x.next_attempt_at <= p_now and x.lease_until is null and x.attempts < greatest(p_max_attempts, 1)
         order by x.next_attempt_at
         limit greatest(p_limit, 0)
           for update skip locked),
    claimed as (
        update ops.notification_deliveries d
           set lease_id = pg_catalog.gen_random_uuid(), lease_until = p_now + pg_catalog.make_interval(secs => p_lease_seconds),
               attempts = d.attempts + 1, last_attempt_at = p_now
          from due
         where d.id = due.id
        returning d.*)
    select c.id, c.lease_id, c.lease_until, c.attempts, e.id, e.event, e.created_at, e.summary, e.data, ch.org_id, ch.id, ch.name, ch.kind,
           case when ch.kind = 'email' and ch.smtp_host is null
                then coalesce((select pg_catalog.string_agg(r.address, ', ' order by r.n)
                                 from pg_catalog.regexp_split_to_table(ch.target, '[,;[:space:]]+') with ordinality r(address, n)
                                where r.address <> '' and ops_private.notification_recipient_allowed(ch.org_id, r.address, p_email_domains)), '')
                else ch.target end,
           ch.smtp_host, ch.smtp_port, ch.smtp_tls, ch.smtp_username, ch.smtp_from, s.secret
      from claimed c
      join ops_private.notification_events e on e.id = c.event_id
      join ops.notification_channels ch on ch.id = c.channel_id
      left join ops_private.notification_channel_secrets s on s.channel_id = ch.id;
end
$$;
revoke all on function ops.claim_notification_deliveries(timestamptz, int, int, int, text[]) from public, ops_app, ops_service;
grant execute on function ops.claim_notification_deliveries(timestamptz, int, int, int, text[]) to ops_service;
