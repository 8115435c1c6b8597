-- A task's heartbeat: extends its lease (never shortens it) and answers whether a cancel was requested. OOL01 when
-- the runner no longer holds the lease.
create or replace function ops.extend_task_lease(p_runner_id uuid, p_task_id uuid, p_lease_id uuid, p_lease_seconds int)
returns table (lease_until timestamptz, cancel_requested boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_task_lease(p_runner_id, p_task_id, p_lease_id);
    return query
    update ops.runner_tasks t
       set lease_until = greatest(t.lease_until, pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds))
     where t.id = p_task_id
    returning t.lease_until, t.cancel_requested;
end
$$;
revoke all on function ops.extend_task_lease(uuid, uuid, uuid, int) from public, ops_app, ops_service;
grant execute on function ops.extend_task_lease(uuid, uuid, uuid, int) to ops_service;
