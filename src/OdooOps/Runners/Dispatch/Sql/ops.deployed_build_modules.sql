-- What a production build updates over: the Odoo modules (name, version) the branch's database holds now
-- (ops_private.branch_deployed_state), so the default pipeline updates only the modules that are new or whose version
-- changed. Null when nothing is known yet (then every module is new). Asked by the runner API right after a claim,
-- under the lease, as ops_service.
create or replace function ops.deployed_build_modules(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch_id uuid;
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    select b.branch_id into v_branch_id from ops.builds b where b.id = p_build_id;
    return (select s.modules from ops_private.branch_deployed_state(v_branch_id, p_build_id) s);
end
$$;
revoke all on function ops.deployed_build_modules(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.deployed_build_modules(uuid, uuid, uuid) to ops_service;
