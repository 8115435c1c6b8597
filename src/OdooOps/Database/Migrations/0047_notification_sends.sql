-- Tests and redeliveries are rationed, and counted here rather than from the delivery log: removing a channel takes its
-- deliveries with it, and must not give the organisation its ration back. Owner-only; the notification functions write
-- it, the retention job forgets what no ration looks at any more.
create table ops_private.notification_sends (
    id          bigint generated always as identity primary key,
    org_id      uuid not null references registry.orgs (id) on delete cascade,
    channel_id  uuid not null,
    kind        text not null check (kind in ('test', 'redeliver')),
    at          timestamptz not null default now()
);
alter table ops_private.notification_sends enable row level security;
revoke all on ops_private.notification_sends from public;
create index notification_sends_org_idx on ops_private.notification_sends (org_id, at);
create index notification_sends_channel_idx on ops_private.notification_sends (channel_id, at);

-- The tests of the last minutes count on: an upgrade does not hand out a fresh ration.
insert into ops_private.notification_sends (org_id, channel_id, kind, at)
select d.org_id, d.channel_id, 'test', d.created_at
  from ops.notification_deliveries d
 where d.event = 'notification.test' and d.created_at > now() - interval '10 minutes';

-- Functions whose parameters changed; their files define the new ones.
drop function if exists ops.finish_notification_delivery(uuid, uuid, timestamptz, boolean, int, text, int, timestamptz, int);
drop function if exists ops.redeliver_notification(uuid, uuid);
