-- Adding a member by email: an org or project admin must find users outside the orgs they share.
-- Only callers who administer something get an answer, and only an id.
create or replace function ops.user_id_by_email(p_email text)
returns uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.id
      from registry.users u
     where pg_catalog.lower(u.email) = pg_catalog.lower(pg_catalog.btrim(p_email))
       and u.is_active
       and (pg_catalog.cardinality(ops.org_ids_with_role('admin')) > 0
            or pg_catalog.cardinality(ops.project_ids_with_role('admin')) > 0)
$$;
revoke all on function ops.user_id_by_email(text) from public, ops_app, ops_service;
grant execute on function ops.user_id_by_email(text) to ops_app;
