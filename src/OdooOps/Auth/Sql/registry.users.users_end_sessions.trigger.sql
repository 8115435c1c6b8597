-- A new password or a deactivation ends the user's sessions (ops_private.end_user_sessions).
create or replace trigger users_end_sessions
    after update of password_hash, is_active on registry.users
    for each row
    when (new.password_hash is distinct from old.password_hash or (old.is_active and not new.is_active))
    execute function ops_private.end_user_sessions();
