-- The account behind an email, for password verification in the host (hashes never leave for ops_app).
create or replace function ops.login_lookup(p_email text)
returns table (user_id uuid, email text, display_name text, password_hash text, is_active boolean, locked_until timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.id, u.email, u.display_name, u.password_hash, u.is_active, u.locked_until
      from registry.users u
     where pg_catalog.lower(u.email) = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
revoke all on function ops.login_lookup(text) from public, ops_app, ops_service;
grant execute on function ops.login_lookup(text) to ops_service;
