-- What a production build updates: the Odoo modules (name, version) of the branch's last successful build before it,
-- i.e. what the branch runs now, so the default pipeline updates only the modules that are new or whose version
-- changed. Null when the branch has no successful build with modules yet (then every module is new). Asked by the
-- runner API right after a claim, under the lease, as ops_service.
create or replace function ops.deployed_build_modules(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch_id uuid;
    v_modules   jsonb;
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    select b.branch_id into v_branch_id from ops.builds b where b.id = p_build_id;
    select p.modules into v_modules
      from ops.builds p
     where p.branch_id = v_branch_id and p.id <> p_build_id
       and p.status in ('success', 'warning') and p.modules is not null
     order by p.finished_at desc nulls last
     limit 1;
    if v_modules is null then
        return null;
    end if;
    return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', m.value ->> 'name', 'version', m.value ->> 'version')
                                                 order by m.value ->> 'name')
                       from pg_catalog.jsonb_array_elements(v_modules) m), '[]'::jsonb);
end
$$;
revoke all on function ops.deployed_build_modules(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.deployed_build_modules(uuid, uuid, uuid) to ops_service;
