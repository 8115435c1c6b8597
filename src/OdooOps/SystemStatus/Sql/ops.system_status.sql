-- The server's own state for its system administrators (the System page, GET /api/ops/system, `odooops system
-- status`): the build queue and its oldest build, the runners, the database's size and its connection limit. It reads
-- across organisations, so it is SECURITY DEFINER and lets only a system administrator through (42501 otherwise).
-- A runner is online when it called in the last minute: idle runners poll at least every 30 s, busy ones every second.
-- Whether the queue is stuck is the advisory scan's rule (build_queue_stuck): its open advisories are counted.
create or replace function ops.system_status()
returns table (queued_builds int, leased_builds int, oldest_queued_build_id uuid, oldest_queued_at timestamptz, oldest_queued_project text,
               runners_total int, runners_online int, runners_disabled int, runner_capacity int, database_size_bytes bigint,
               max_connections int, stuck_queue_advisories int)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not ops.is_system_admin() then
        raise exception 'The server''s state is visible to system administrators only.' using errcode = '42501';
    end if;
    return query
    select q.queued, q.leased, o.id, o.queued_at, o.project,
           r.total, r.online, r.disabled, r.capacity,
           pg_catalog.pg_database_size(pg_catalog.current_database()),
           pg_catalog.current_setting('max_connections')::int,
           (select pg_catalog.count(*)::int from ops.advisories a where a.rule = 'build_queue_stuck' and a.status = 'open')
      from (select pg_catalog.count(*) filter (where rq.state = 'queued')::int as queued,
                   pg_catalog.count(*) filter (where rq.state = 'leased')::int as leased
              from ops.run_queue rq) q
      cross join (select pg_catalog.count(*)::int as total,
                         pg_catalog.count(*) filter (where ru.disabled_at is null
                                                     and ru.last_seen_at > pg_catalog.now() - interval '1 minute')::int as online,
                         pg_catalog.count(*) filter (where ru.disabled_at is not null)::int as disabled,
                         coalesce(pg_catalog.sum(ru.capacity) filter (where ru.disabled_at is null
                                                     and ru.last_seen_at > pg_catalog.now() - interval '1 minute'), 0)::int as capacity
                    from ops.runners ru) r
      left join lateral (select b.id, b.queued_at, g.slug || '/' || p.slug as project
                           from ops.run_queue rq
                           join ops.builds b on b.id = rq.build_id
                           join ops.projects p on p.id = b.project_id
                           join registry.orgs g on g.id = p.org_id
                          where rq.state = 'queued'
                          order by b.queued_at, b.id
                          limit 1) o on true;
end
$$;
revoke all on function ops.system_status() from public, ops_app, ops_service;
grant execute on function ops.system_status() to ops_app;
