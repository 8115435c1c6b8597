-- The notification_retention job: forgets the events written before p_before with their deliveries, except those a
-- delivery still waits to send, and the counted tests and redeliveries no ration looks at any more (older than its
-- 10 minutes). Answers how many events went.
create or replace function ops.prune_notifications(p_before timestamptz)
returns integer
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    delete from ops_private.notification_sends s where s.at < pg_catalog.now() - interval '10 minutes';
    with gone as (
        delete from ops_private.notification_events e
         where e.created_at < p_before
           and not exists (select 1 from ops.notification_deliveries d where d.event_id = e.id and d.status = 'pending')
        returning 1)
    select pg_catalog.count(*)::integer from gone
$$;
revoke all on function ops.prune_notifications(timestamptz) from public, ops_app, ops_service;
grant execute on function ops.prune_notifications(timestamptz) to ops_service;
