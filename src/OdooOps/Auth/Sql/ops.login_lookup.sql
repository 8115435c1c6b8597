-- The account behind an email, for password verification in the host (hashes never leave for ops_app), and whether
-- sign-in from this client address is locked out.
create or replace function ops.login_lookup(p_email text, p_address text)
returns table (user_id uuid, email text, display_name text, password_hash text, is_active boolean, locked boolean)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.id, u.email, u.display_name, u.password_hash, u.is_active,
           exists (select 1 from ops_private.sign_in_failures f
                    where f.user_id = u.id and f.address = p_address and f.locked_until > pg_catalog.now())
      from registry.users u
     where pg_catalog.lower(u.email) = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
revoke all on function ops.login_lookup(text, text) from public, ops_app, ops_service;
grant execute on function ops.login_lookup(text, text) to ops_service;
