-- The one ration of the sends a person asks for — "Send a test" and "Redeliver" —, so neither can flood a receiver or a
-- mailbox: at most p_limit to a channel and 4 × p_limit to the organisation's channels in any 10 minutes, tests and
-- redeliveries together. Past it SQLSTATE OON01 (HTTP 429), its HINT the seconds until the oldest counted send is 10
-- minutes old (Retry-After); otherwise the send is counted. Counted in ops_private.notification_sends, which removing a
-- channel leaves alone, and one caller of an organisation at a time (a transaction-scoped advisory lock on it), so
-- concurrent requests cannot each see room for one more.
create or replace function ops_private.notification_send_ration(p_org_id uuid, p_channel_id uuid, p_kind text, p_limit int)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_limit   int := greatest(p_limit, 1);
    v_count   int;
    v_oldest  timestamptz;
    v_wait    int;
    v_scope   text;
begin
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ops_private.notification_sends:' || p_org_id::text, 0));
    select count(*), min(r.at) into v_count, v_oldest
      from (select s.at from ops_private.notification_sends s
             where s.channel_id = p_channel_id and s.at > pg_catalog.now() - interval '10 minutes'
             order by s.at desc limit v_limit) r;
    v_scope := 'This channel';
    if v_count < v_limit then
        select count(*), min(r.at) into v_count, v_oldest
          from (select s.at from ops_private.notification_sends s
                 where s.org_id = p_org_id and s.at > pg_catalog.now() - interval '10 minutes'
                 order by s.at desc limit 4 * v_limit) r;
        v_scope := 'This organisation''s channels';
        if v_count < 4 * v_limit then
            insert into ops_private.notification_sends (org_id, channel_id, kind) values (p_org_id, p_channel_id, p_kind);
            return;
        end if;
    end if;
    v_wait := greatest(1, ceil(extract(epoch from v_oldest + interval '10 minutes' - pg_catalog.now()))::int);
    raise exception '% already had % tests and redeliveries in the last 10 minutes, the most allowed; try again in % s.', v_scope, v_count, v_wait
        using errcode = 'OON01', hint = v_wait::text;
end
$$;
revoke all on function ops_private.notification_send_ration(uuid, uuid, text, int) from public, ops_app, ops_service;
