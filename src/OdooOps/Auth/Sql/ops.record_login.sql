-- Records the outcome of a password check. After p_max_failures consecutive failures the account is
-- locked for p_lock; a success clears the count. Returns locked_until (null when not locked).
create or replace function ops.record_login(p_user_id uuid, p_success boolean, p_max_failures int, p_lock interval)
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
revoke all on function ops.record_login(uuid, boolean, int, interval) from public, ops_app, ops_service;
grant execute on function ops.record_login(uuid, boolean, int, interval) to ops_service;
