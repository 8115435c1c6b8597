-- Removes a branch's custom domain and answers the row as it was (P0002 when the project has no such domain the
-- user can see). The proxy stops routing the name at once (instance_domains_routes).
create or replace function ops.remove_instance_domain(p_project_id uuid, p_domain_id uuid)
returns ops.instance_domains
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.instance_domains;
begin
    v_row := ops_private.domain_for_write(p_project_id, p_domain_id);
    delete from ops.instance_domains d where d.id = p_domain_id;
    return v_row;
end
$$;
revoke all on function ops.remove_instance_domain(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.remove_instance_domain(uuid, uuid) to ops_app;
