-- A worker's attempt, recorded under its lease (a lease that is not the delivery's any more — a person redelivered it
-- since — records nothing: 'lost'), by p_outcome: 'delivered'; 'failed', to be tried again at p_retry_at, or for good
-- (p_retry_at null, or the channel was disabled meanwhile); or 'unknown': it was sent and no answer came, so it is not
-- sent again by itself. With the receiver's answer (status code, error text the host wrote without secrets, time
-- taken). An attempt that outlived its lease (made 'unknown' by a claim) is recorded all the same: it was the only one.
-- The channel's health follows: a success clears its failures (a failing channel recovers and its advisories resolve:
-- 'recovered'); a failure or an unknown outcome (the receiver did not answer) counts, and the p_failing_after-th in a
-- row marks it failing and opens the notification_channel_failing advisory ('failing'). Answers the change of the
-- channel's state, or null.
-- Locks are taken as everything else that writes both takes them — the channel, then its delivery (disabling or
-- removing a channel, sending a test) — so that none of them can deadlock with another.
create or replace function ops.finish_notification_delivery(p_delivery_id uuid, p_lease_id uuid, p_now timestamptz, p_outcome text,
    p_response_code int, p_error text, p_duration_ms int, p_retry_at timestamptz, p_failing_after int)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_channel  ops.notification_channels;
    v_id       uuid;
    v_ok       boolean := p_outcome = 'delivered';
begin
    if p_outcome is null or p_outcome not in ('delivered', 'failed', 'unknown') then
        raise exception 'p_outcome must be delivered, failed or unknown, not %.', coalesce(p_outcome, 'null') using errcode = '22023';
    end if;
    select d.channel_id into v_id from ops.notification_deliveries d where d.id = p_delivery_id and d.lease_id = p_lease_id;
    if v_id is null then
        return 'lost';
    end if;
    select * into v_channel from ops.notification_channels c where c.id = v_id for no key update;
    if not found then
        return 'lost';
    end if;
    update ops.notification_deliveries d
       set status = case when v_ok then 'delivered' when p_outcome = 'unknown' then 'unknown'
                         when p_retry_at is null or not v_channel.enabled then 'failed' else 'pending' end,
           next_attempt_at = case when p_outcome = 'failed' and p_retry_at is not null and v_channel.enabled then p_retry_at end,
           lease_id = null, lease_until = null, last_attempt_at = p_now,
           response_code = case when p_response_code between 100 and 999 then p_response_code end,
           error = case when v_ok then null
                        else pg_catalog.left(coalesce(p_error, 'failed') || case when v_channel.enabled then '' else ' (the channel was disabled)' end, 2000) end,
           duration_ms = greatest(p_duration_ms, 0), delivered_at = case when v_ok then p_now else d.delivered_at end
     where d.id = p_delivery_id and d.lease_id = p_lease_id and d.status in ('pending', 'unknown');
    if not found then
        return 'lost';
    end if;
    if v_ok then
        update ops.notification_channels c
           set consecutive_failures = 0, failing_since = null, last_error = null, last_delivery_at = p_now, last_success_at = p_now
         where c.id = v_id;
        if v_channel.failing_since is not null then
            perform ops_private.notification_channel_advisories(v_id, false);
            return 'recovered';
        end if;
        return null;
    end if;
    if not v_channel.enabled then
        return null; -- a disabled channel's health is not kept
    end if;
    update ops.notification_channels c
       set consecutive_failures = c.consecutive_failures + 1, last_delivery_at = p_now,
           last_error = pg_catalog.left(coalesce(p_error, 'failed'), 2000),
           failing_since = case when c.failing_since is null and c.consecutive_failures + 1 >= greatest(p_failing_after, 1) then p_now
                                else c.failing_since end
     where c.id = v_id;
    if v_channel.failing_since is null and v_channel.consecutive_failures + 1 >= greatest(p_failing_after, 1) then
        perform ops_private.notification_channel_advisories(v_id, true);
        return 'failing';
    end if;
    return null;
end
$$;
revoke all on function ops.finish_notification_delivery(uuid, uuid, timestamptz, text, int, text, int, timestamptz, int)
    from public, ops_app, ops_service;
grant execute on function ops.finish_notification_delivery(uuid, uuid, timestamptz, text, int, text, int, timestamptz, int)
    to ops_service;
