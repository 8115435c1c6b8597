-- The acting user's email as invitations store it (lower case), or null for anyone not signed in and active.
create or replace function ops_private.invitee_email()
returns text
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.lower(pg_catalog.btrim(u.email)) from registry.users u where u.id = ops.current_user_id() and u.is_active
$$;
revoke all on function ops_private.invitee_email() from public, ops_app, ops_service;
