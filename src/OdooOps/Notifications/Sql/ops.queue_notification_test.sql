-- "Send a test" (org owners and admins): a notification.test event for one channel only, whatever it subscribes to,
-- delivered by the workers like any other (NOTIFY ops_notifications). Answers the delivery's id.
-- A test is a message the caller chooses when to send, so it is rationed with redeliveries
-- (ops_private.notification_send_ration: p_limit to a channel, 4 × p_limit to the organisation, SQLSTATE OON01 past it).
create or replace function ops.queue_notification_test(p_org_id uuid, p_channel_id uuid, p_limit int)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_channel  ops.notification_channels;
    v_org      registry.orgs;
    v_event    uuid;
    v_summary  text;
    v_id       uuid;
begin
    perform ops_private.require_notification_admin(p_org_id, 'Sending a test notification');
    select * into v_channel from ops.notification_channels c where c.id = p_channel_id and c.org_id = p_org_id for no key update;
    if not found then
        raise exception 'No such notification channel.' using errcode = 'P0002';
    end if;
    perform ops_private.notification_send_ration(p_org_id, p_channel_id, 'test', p_limit);
    select * into strict v_org from registry.orgs o where o.id = p_org_id;
    v_summary := pg_catalog.left(v_org.name || ': test notification to ' || v_channel.name, 500);
    insert into ops_private.notification_events (org_id, event, summary, data)
    values (v_org.id, 'notification.test', v_summary, pg_catalog.jsonb_build_object(
        'organisation', pg_catalog.jsonb_build_object('id', v_org.id, 'slug', v_org.slug, 'name', v_org.name),
        'test', pg_catalog.jsonb_build_object('channel_id', v_channel.id, 'channel', v_channel.name,
            'requested_by', (select coalesce(u.display_name, u.email) from registry.users u where u.id = ops.current_user_id()))))
    returning id into v_event;
    insert into ops.notification_deliveries (org_id, channel_id, event_id, event, summary, next_attempt_at)
    values (v_org.id, v_channel.id, v_event, 'notification.test', v_summary, pg_catalog.now())
    returning id into v_id;
    perform pg_catalog.pg_notify('ops_notifications', '');
    return v_id;
end
$$;
revoke all on function ops.queue_notification_test(uuid, uuid, int) from public, ops_app, ops_service;
grant execute on function ops.queue_notification_test(uuid, uuid, int) to ops_app;
