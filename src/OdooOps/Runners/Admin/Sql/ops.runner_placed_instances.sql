-- Instances placed on each runner the acting user can see (the runners_select policy): not retired, whoever's they are.
-- For a shared runner that is how full it is, which members need to know and which names nothing.
create or replace function ops.runner_placed_instances()
returns table (runner_id uuid, placed int)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select i.runner_id, pg_catalog.count(*)::int
      from ops.instances i
      join ops.runners r on r.id = i.runner_id
     where i.retired_at is null
       and (r.org_id in (select pg_catalog.unnest(ops.visible_org_ids()))
            or (r.org_id is null and ops.active_user_id() is not null))
     group by i.runner_id
$$;
revoke all on function ops.runner_placed_instances() from public, ops_app, ops_service;
grant execute on function ops.runner_placed_instances() to ops_app;
