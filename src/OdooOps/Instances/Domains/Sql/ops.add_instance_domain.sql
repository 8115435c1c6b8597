-- Adds a custom domain to a branch (unverified: the proxy routes it once ops.record_instance_domain_check verified it).
-- SECURITY DEFINER: a name is unique across every organisation, which a request role that sees only its own rows
-- cannot check; a name another organisation holds answers 23505 "already used" without saying whose it is.
-- The host checks the name's form and what it may not be (our instances' domain, the console's host) before.
create or replace function ops.add_instance_domain(p_project_id uuid, p_branch_id uuid, p_name text)
returns ops.instance_domains
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.instance_domains;
begin
    perform ops_private.require_domain_access(p_project_id, p_branch_id);
    if exists (select 1 from ops.branches b where b.id = p_branch_id and b.project_id = p_project_id and b.archived_at is not null) then
        raise exception 'branch % is archived', p_branch_id using errcode = 'P0002';
    end if;
    begin
        insert into ops.instance_domains (project_id, branch_id, name, created_by)
        values (p_project_id, p_branch_id, p_name, ops.current_user_id())
        returning * into v_row;
    exception when unique_violation then
        raise exception '% is already used.', p_name using errcode = '23505';
    end;
    return v_row;
end
$$;
revoke all on function ops.add_instance_domain(uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.add_instance_domain(uuid, uuid, text) to ops_app;
