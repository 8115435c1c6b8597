-- "Send a test" (org owners and admins): a notification.test event for one channel only, whatever it subscribes to,
-- delivered by the workers like any other (NOTIFY ops_notifications). Answers the delivery's id.
-- A test is a message the caller chooses when to send, so it is rationed: at most p_limit to a channel and 4 × p_limit
-- to the organisation's channels in any 10 minutes; past that SQLSTATE OON01 (HTTP 429), its HINT the seconds until
-- the oldest counted test is 10 minutes old (Retry-After). The channel is locked first, so concurrent tests of one
-- channel are counted one after the other.
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
    v_count    int;
    v_oldest   timestamptz;
    v_wait     int;
    v_scope    text;
begin
    perform ops_private.require_notification_admin(p_org_id, 'Sending a test notification');
    select * into v_channel from ops.notification_channels c where c.id = p_channel_id and c.org_id = p_org_id for no key update;
    if not found then
        raise exception 'No such notification channel.' using errcode = 'P0002';
    end if;
    select count(*), min(r.created_at) into v_count, v_oldest
      from (select d.created_at from ops.notification_deliveries d
             where d.channel_id = p_channel_id and d.event = 'notification.test' and d.created_at > pg_catalog.now() - interval '10 minutes'
             order by d.created_at desc limit greatest(p_limit, 1)) r;
    v_scope := 'This channel';
    if v_count < greatest(p_limit, 1) then
        select count(*), min(r.created_at) into v_count, v_oldest
          from (select d.created_at from ops.notification_deliveries d
                 where d.org_id = p_org_id and d.event = 'notification.test' and d.created_at > pg_catalog.now() - interval '10 minutes'
                 order by d.created_at desc limit 4 * greatest(p_limit, 1)) r;
        v_scope := 'This organisation''s channels';
        if v_count < 4 * greatest(p_limit, 1) then
            v_count := null;
        end if;
    end if;
    if v_count is not null then
        v_wait := greatest(1, ceil(extract(epoch from v_oldest + interval '10 minutes' - pg_catalog.now()))::int);
        raise exception '% already had % test notifications in the last 10 minutes, the most allowed; try again in % s.', v_scope, v_count, v_wait
            using errcode = 'OON01', hint = v_wait::text;
    end if;
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
