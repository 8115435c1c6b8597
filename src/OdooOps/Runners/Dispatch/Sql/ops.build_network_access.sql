-- Whether a leased build's steps may open outbound connections: its project's switch when the build is claimed (a
-- switch turned off reaches every build not yet started).
create or replace function ops.build_network_access(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    return coalesce((select p.build_network from ops.builds b join ops.projects p on p.id = b.project_id where b.id = p_build_id), true);
end
$$;
revoke all on function ops.build_network_access(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.build_network_access(uuid, uuid, uuid) to ops_service;
