-- ops.notification_deliveries: the delivery log, read by the channel's org owners and admins (it names their targets'
-- answers); written by the events' triggers, the delivery worker and ops.redeliver_notification only.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.notification_deliveries');
grant select on ops.notification_deliveries to ops_app;

create policy notification_deliveries_select on ops.notification_deliveries
    for select to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin'))));
