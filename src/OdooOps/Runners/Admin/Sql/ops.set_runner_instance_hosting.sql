-- Whether a runner hosts instances (p_serves) and how many at most (p_capacity); null leaves either as it is. Checked
-- as ops.set_runner_disabled is: a runner the caller cannot see is P0002, one they may not administer 42501 (shared
-- runners: system administrators). Instances already on the runner stay; the capacity limits new placements only.
create or replace function ops.set_runner_instance_hosting(p_runner_id uuid, p_serves boolean, p_capacity int)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_runner ops.runners;
begin
    select * into v_runner from ops.runners r where r.id = p_runner_id for no key update;
    if not found
       or (v_runner.org_id is null and ops.active_user_id() is null)
       or (v_runner.org_id is not null and ops.org_role(v_runner.org_id) is null) then
        raise exception 'No such runner.' using errcode = 'P0002';
    end if;
    if not ops_private.may_admin_runners(v_runner.org_id) then
        raise exception '%', case when v_runner.org_id is null then 'Shared runners are changed by system administrators only.'
                                  else 'Changing where instances run needs the admin role in this org.' end
              using errcode = '42501';
    end if;
    update ops.runners r
       set serves_instances = coalesce(p_serves, r.serves_instances),
           instance_capacity = coalesce(p_capacity, r.instance_capacity)
     where r.id = p_runner_id;
end
$$;
revoke all on function ops.set_runner_instance_hosting(uuid, boolean, int) from public, ops_app, ops_service;
grant execute on function ops.set_runner_instance_hosting(uuid, boolean, int) to ops_app;
