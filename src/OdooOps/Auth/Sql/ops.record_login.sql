-- Records the outcome of a password check from one client address. After p_max_failures consecutive failures from
-- that address (within p_lock of each other) the account is locked for that address only, for p_lock; a success
-- clears the address's count. A null user (unknown email, inactive or locked account) records nothing: the host calls
-- it anyway, so every sign-in costs the same round trips. Returns locked_until (null when not locked).
create or replace function ops.record_login(p_user_id uuid, p_address text, p_success boolean, p_max_failures int, p_lock interval)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_failures int;
    v_locked   timestamptz;
begin
    if p_user_id is null then
        return null;
    end if;
    if p_success then
        update registry.users set last_login_at = pg_catalog.now() where id = p_user_id;
        delete from ops_private.sign_in_failures where user_id = p_user_id and address = p_address;
        return null;
    end if;
    insert into ops_private.sign_in_failures as f (user_id, address, failures, updated_at)
    values (p_user_id, p_address, 1, pg_catalog.now())
    on conflict (user_id, address) do update
       set failures = case when f.updated_at < pg_catalog.now() - p_lock then 1 else f.failures + 1 end,
           updated_at = pg_catalog.now()
    returning f.failures into v_failures;
    if v_failures >= p_max_failures then
        update ops_private.sign_in_failures
           set failures = 0, locked_until = pg_catalog.now() + p_lock
         where user_id = p_user_id and address = p_address
        returning locked_until into v_locked;
    end if;
    -- Addresses that stopped trying a day ago are forgotten, so the table does not grow with every address ever seen.
    delete from ops_private.sign_in_failures
     where updated_at < pg_catalog.now() - interval '1 day'
       and (locked_until is null or locked_until < pg_catalog.now());
    return v_locked;
end
$$;
revoke all on function ops.record_login(uuid, text, boolean, int, interval) from public, ops_app, ops_service;
grant execute on function ops.record_login(uuid, text, boolean, int, interval) to ops_service;
