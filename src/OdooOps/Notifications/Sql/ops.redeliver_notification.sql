-- "Redeliver" (org owners and admins): a delivered, failed or unknown delivery is sent again, now, by the workers — the same
-- event (its id) to the same channel, with its retries afresh: the one exception to once per event and channel, asked for by a person. One
-- still waiting to be sent is a conflict (55000). A send the caller chooses, so rationed with the tests
-- (ops_private.notification_send_ration: p_limit to a channel, SQLSTATE OON01 past it). The old attempt's lease goes:
-- its worker's answer, should it still come, records nothing. Answers the channel's id; P0002 when there is no such delivery.
create or replace function ops.redeliver_notification(p_org_id uuid, p_delivery_id uuid, p_limit int)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.notification_deliveries;
begin
    perform ops_private.require_notification_admin(p_org_id, 'Redelivering notifications');
    select * into v_row from ops.notification_deliveries d where d.id = p_delivery_id and d.org_id = p_org_id for update;
    if not found then
        raise exception 'No such delivery.' using errcode = 'P0002';
    end if;
    if v_row.status = 'pending' then
        raise exception 'This delivery is still waiting to be sent (attempt % of its retries).', v_row.attempts + 1 using errcode = '55000';
    end if;
    perform ops_private.notification_send_ration(p_org_id, v_row.channel_id, 'redeliver', p_limit);
    update ops.notification_deliveries d
       set status = 'pending', attempts = 0, next_attempt_at = pg_catalog.now(), lease_id = null, lease_until = null, redelivered_at = pg_catalog.now(), redelivered_by = ops.current_user_id()
     where d.id = p_delivery_id;
    perform pg_catalog.pg_notify('ops_notifications', '');
    return v_row.channel_id;
end
$$;
revoke all on function ops.redeliver_notification(uuid, uuid, int) from public, ops_app, ops_service;
grant execute on function ops.redeliver_notification(uuid, uuid, int) to ops_app;
