-- The repository credential of a leased build's project (kind, user name, ciphertext), for the runner API to decrypt
-- and hand to that build's runner; no row when the project has none. Only under the build's lease (OOL01 otherwise).
create or replace function ops.build_repo_credential(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns table (kind text, username text, secret text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    return query
        select c.kind, c.username, c.secret
          from ops.builds b
          join ops_private.repo_credentials c on c.project_id = b.project_id
         where b.id = p_build_id;
end
$$;
revoke all on function ops.build_repo_credential(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.build_repo_credential(uuid, uuid, uuid) to ops_service;
