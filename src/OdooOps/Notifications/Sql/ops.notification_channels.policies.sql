-- ops.notification_channels: org owners and admins read their org's channels; nobody writes but the notification
-- functions (ops.save_notification_channel, …, and the delivery worker's). The secret is elsewhere (owner-only).
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.notification_channels');
grant select on ops.notification_channels to ops_app;

create policy notification_channels_select on ops.notification_channels
    for select to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin'))));
