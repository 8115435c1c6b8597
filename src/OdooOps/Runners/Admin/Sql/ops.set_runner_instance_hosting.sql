-- Whether a runner hosts instances (p_serves) and how many at most (p_capacity); null leaves either as it is. Checked
-- by ops_private.runner_for_admin, as disabling is: a runner the caller cannot see is P0002, one they may not
-- administer 42501 (shared runners: system administrators). Instances already on the runner stay; the switch and
-- the capacity govern new placements only.
create or replace function ops.set_runner_instance_hosting(p_runner_id uuid, p_serves boolean, p_capacity int)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.runner_for_admin(p_runner_id, 'Changing where instances run');
    update ops.runners r
       set serves_instances = coalesce(p_serves, r.serves_instances),
           instance_capacity = coalesce(p_capacity, r.instance_capacity)
     where r.id = p_runner_id;
end
$$;
revoke all on function ops.set_runner_instance_hosting(uuid, boolean, int) from public, ops_app, ops_service;
grant execute on function ops.set_runner_instance_hosting(uuid, boolean, int) to ops_app;
