-- 0005: sign-in support for the host. Before sign-in no user is known, so these run as ops_service
-- (SECURITY DEFINER, pinned search_path) and touch only what sign-in needs.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

-- The account behind an email, for password verification in the host (hashes never leave for ops_app).
create function ops.login_lookup(p_email text)
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

-- Records the outcome of a password check. After p_max_failures consecutive failures the account is
-- locked for p_lock; a success clears the count. Returns locked_until (null when not locked).
create function ops.record_login(p_user_id uuid, p_success boolean, p_max_failures int, p_lock interval)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_locked timestamptz;
begin
    if p_success then
        update registry.users
           set failed_logins = 0, locked_until = null, last_login_at = pg_catalog.now()
         where id = p_user_id
        returning locked_until into v_locked;
    else
        update registry.users
           set failed_logins = case when failed_logins + 1 >= p_max_failures then 0 else failed_logins + 1 end,
               locked_until = case when failed_logins + 1 >= p_max_failures then pg_catalog.now() + p_lock else locked_until end
         where id = p_user_id
        returning locked_until into v_locked;
    end if;
    return v_locked;
end
$$;

-- Whether a signed-in session is still good: the user exists and is active (checked as cookies slide).
create function ops.session_user_active(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce((select u.is_active from registry.users u where u.id = p_user_id), false)
$$;

revoke execute on function
    ops.login_lookup(text),
    ops.record_login(uuid, boolean, int, interval),
    ops.session_user_active(uuid)
from public;
grant execute on function
    ops.login_lookup(text),
    ops.record_login(uuid, boolean, int, interval),
    ops.session_user_active(uuid)
to ops_service;

-- ASP.NET Core data-protection keys (they encrypt session cookies and antiforgery tokens). Kept in the
-- database so every replica, and every restart, decrypts the same cookies.
create table ops_private.data_protection_keys (
    friendly_name text primary key,
    xml           text not null,
    created_at    timestamptz not null default now()
);
alter table ops_private.data_protection_keys enable row level security;
revoke all on ops_private.data_protection_keys from public;
grant select, insert on ops_private.data_protection_keys to ops_service;
create policy data_protection_keys_service on ops_private.data_protection_keys
    for all to ops_service using (true) with check (true);

-- Adding a member by email: an org or project admin must find users outside the orgs they share.
-- Only callers who administer something get an answer, and only an id.
create function ops.user_id_by_email(p_email text)
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
revoke execute on function ops.user_id_by_email(text) from public;
grant execute on function ops.user_id_by_email(text) to ops_app;
