-- A new password or a deactivated account ends every session of the user, whoever changed it and however (the admin
-- verb, psql); a new password also lifts the user's sign-in lockouts.
create or replace function ops_private.end_user_sessions()
returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    delete from ops_private.sessions where user_id = new.id;
    if new.password_hash is distinct from old.password_hash then
        delete from ops_private.sign_in_failures where user_id = new.id;
    end if;
    return null;
end
$$;
revoke all on function ops_private.end_user_sessions() from public, ops_app, ops_service;
