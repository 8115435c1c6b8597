-- Disables (p_disabled) or enables a runner. A disabled runner's token is refused (ops.authenticate_runner) and it is
-- leased nothing; the leases it holds end now, so the rescuer re-queues its builds at its next round instead of
-- waiting for them to run out. Answers disabled_at (null once enabled).
create or replace function ops.set_runner_disabled(p_runner_id uuid, p_disabled boolean)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_runner ops.runners;
begin
    v_runner := ops_private.runner_for_admin(p_runner_id, 'Disabling or enabling runners');
    if p_disabled then
        update ops.runners r set disabled_at = coalesce(r.disabled_at, pg_catalog.now()) where r.id = p_runner_id
        returning r.disabled_at into v_runner.disabled_at;
        update ops.run_queue q set lease_until = least(q.lease_until, pg_catalog.now())
         where q.lease_owner = p_runner_id and q.state = 'leased';
    else
        update ops.runners r set disabled_at = null where r.id = p_runner_id
        returning r.disabled_at into v_runner.disabled_at;
    end if;
    return v_runner.disabled_at;
end
$$;
revoke all on function ops.set_runner_disabled(uuid, boolean) from public, ops_app, ops_service;
grant execute on function ops.set_runner_disabled(uuid, boolean) to ops_app;
