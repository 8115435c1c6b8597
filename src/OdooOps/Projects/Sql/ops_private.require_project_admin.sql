-- The acting user must be an admin of the project (its own role or the organisation's): P0002 when the project is not
-- theirs to see, 42501 naming their role otherwise. p_what names what needs it, in the message. For the SECURITY DEFINER
-- functions of project admins (webhook settings, repository credential), which RLS does not guard.
create or replace function ops_private.require_project_admin(p_project_id uuid, p_what text)
returns void
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_role text := ops.project_role(p_project_id);
begin
    if v_role is null then
        raise exception 'project % not found', p_project_id using errcode = 'P0002';
    end if;
    if ops.role_rank(v_role) < ops.role_rank('admin') then
        raise exception '% needs the admin role (you are %)', p_what, v_role using errcode = '42501';
    end if;
end
$$;
revoke all on function ops_private.require_project_admin(uuid, text) from public, ops_app, ops_service;
