-- Whether a session cookie is still good, asked on every request: its session exists (not signed out, not ended by a
-- new password), belongs to p_user_id, was used within p_idle, and the user is active. A good session's last use is
-- written at most once a minute.
create or replace function ops.check_session(p_session_id uuid, p_user_id uuid, p_idle interval)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_seen timestamptz;
begin
    select s.last_seen_at into v_seen
      from ops_private.sessions s
      join registry.users u on u.id = s.user_id and u.is_active
     where s.id = p_session_id and s.user_id = p_user_id;
    if v_seen is null or v_seen < pg_catalog.now() - p_idle then
        return false;
    end if;
    if v_seen < pg_catalog.now() - interval '1 minute' then
        update ops_private.sessions set last_seen_at = pg_catalog.now() where id = p_session_id;
    end if;
    return true;
end
$$;
revoke all on function ops.check_session(uuid, uuid, interval) from public, ops_app, ops_service;
grant execute on function ops.check_session(uuid, uuid, interval) to ops_service;
