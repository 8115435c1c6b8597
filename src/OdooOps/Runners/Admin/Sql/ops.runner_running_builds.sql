-- Leased builds per runner the acting user can see (the runners_select policy). The whole count, whoever's builds they
-- are: for a shared runner that is how busy it is, which members need to know and which names nothing.
create or replace function ops.runner_running_builds()
returns table (runner_id uuid, running int)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select q.lease_owner, pg_catalog.count(*)::int
      from ops.run_queue q
      join ops.runners r on r.id = q.lease_owner
     where q.state = 'leased'
       and (r.org_id in (select pg_catalog.unnest(ops.visible_org_ids()))
            or (r.org_id is null and ops.active_user_id() is not null))
     group by q.lease_owner
$$;
revoke all on function ops.runner_running_builds() from public, ops_app, ops_service;
grant execute on function ops.runner_running_builds() to ops_app;
