-- When the delivery workers next have something to do: a pending delivery's next attempt, the end of the lease a
-- worker holds on one (it is then 'unknown'), or the end of a down branch's grace (p_grace_seconds) before it is
-- announced; null when nothing waits. The workers sleep until then at most.
create or replace function ops.next_notification_due(p_grace_seconds int)
returns timestamptz
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.min(due) from (
        select coalesce(d.lease_until, d.next_attempt_at) as due
          from ops.notification_deliveries d
         where d.status = 'pending'
        union all
        select b.since + pg_catalog.make_interval(secs => greatest(p_grace_seconds, 0))
          from ops_private.notification_down_branches b
         where b.announced_at is null) x
$$;
revoke all on function ops.next_notification_due(int) from public, ops_app, ops_service;
grant execute on function ops.next_notification_due(int) to ops_service;
