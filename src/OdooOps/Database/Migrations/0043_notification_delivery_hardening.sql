-- Notifications, hardened. A delivery whose worker stopped while sending (its lease ran out) ends 'unknown': it is never
-- sent again by itself, so an event reaches a channel at most once. A branch whose instance is down is announced only
-- after a grace period, so its row remembers whether (and when) instance.down was sent; the rows written before were
-- announced when written.
alter table ops.notification_deliveries drop constraint notification_deliveries_status_check;
alter table ops.notification_deliveries
    add constraint notification_deliveries_status_check check (status in ('pending', 'delivered', 'failed', 'unknown'));

alter table ops_private.notification_down_branches add column announced_at timestamptz;
update ops_private.notification_down_branches set announced_at = since;

-- Functions whose parameters changed; their files define the new ones.
drop function if exists ops.claim_notification_deliveries(timestamptz, int, int);
drop function if exists ops.next_notification_due();
drop function if exists ops.queue_notification_test(uuid, uuid);
drop function if exists ops_private.queue_notification(uuid, uuid, text, text, text, text, jsonb);
drop function if exists ops.save_notification_channel(uuid, uuid, text, text, text, text, int, text, text, text, text[], uuid[], text, boolean, text);
