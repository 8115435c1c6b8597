-- A domain a user's write may change: the project's row, locked (P0002 when the project has no such domain), after
-- the checks of every domain write (ops_private.require_domain_access).
create or replace function ops_private.domain_for_write(p_project_id uuid, p_domain_id uuid)
returns ops.instance_domains
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.instance_domains;
begin
    select * into v_row from ops.instance_domains d where d.id = p_domain_id and d.project_id = p_project_id for update;
    if not found then
        raise exception 'domain % not found', p_domain_id using errcode = 'P0002';
    end if;
    perform ops_private.require_domain_access(p_project_id, v_row.branch_id);
    return v_row;
end
$$;
revoke all on function ops_private.domain_for_write(uuid, uuid) from public, ops_app, ops_service;
