-- Heartbeat: extends the lease and answers whether a cancel was requested.
create or replace function ops.extend_build_lease(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_lease_seconds int)
returns table (lease_until timestamptz, cancel_requested boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    return query
    with extended as (
        update ops.run_queue q
           set lease_until = greatest(q.lease_until, pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds))
         where q.build_id = p_build_id
        returning q.lease_until
    )
    select e.lease_until, (select b.cancel_requested_at is not null from ops.builds b where b.id = p_build_id) from extended e;
end
$$;
revoke all on function ops.extend_build_lease(uuid, uuid, uuid, int) from public, ops_app, ops_service;
grant execute on function ops.extend_build_lease(uuid, uuid, uuid, int) to ops_service;
