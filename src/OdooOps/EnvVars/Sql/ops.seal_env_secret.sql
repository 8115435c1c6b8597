-- Replaces a plain-text secret value (of a variable, or of the snapshot of build p_build_id) by the server's sealed
-- one, if it is still the value that was sealed (a change in between wins); true when it did. ops_service only.
create or replace function ops.seal_env_secret(p_build_id uuid, p_project_id uuid, p_stage text, p_name text, p_value text, p_sealed text)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_build_id is null then
        update ops.env_vars v set value = null, sealed = p_sealed
         where v.project_id = p_project_id and v.stage = p_stage and v.name = p_name
           and v.is_secret and v.sealed is null and v.value = p_value;
    else
        update ops_private.build_snapshots s
           set env = s.env operator(pg_catalog.-) p_name,
               sealed_env = s.sealed_env operator(pg_catalog.||) pg_catalog.jsonb_build_object(p_name, p_sealed)
         where s.build_id = p_build_id and s.env operator(pg_catalog.->>) p_name = p_value;
    end if;
    return found;
end
$$;
revoke all on function ops.seal_env_secret(uuid, uuid, text, text, text, text) from public, ops_app, ops_service;
grant execute on function ops.seal_env_secret(uuid, uuid, text, text, text, text) to ops_service;
