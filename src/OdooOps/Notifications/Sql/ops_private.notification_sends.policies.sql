-- ops_private.notification_sends: the tests and redeliveries counted for their ration. Owner-only: written and read by
-- ops_private.notification_send_ration (through ops.queue_notification_test and ops.redeliver_notification), pruned by
-- ops.prune_notifications; no request role holds anything on it.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops_private.notification_sends');
