-- Signing out: the session is gone, so its cookie (or a copy of it) is refused from now on.
create or replace function ops.end_session(p_session_id uuid)
returns void
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    delete from ops_private.sessions where id = p_session_id
$$;
revoke all on function ops.end_session(uuid) from public, ops_app, ops_service;
grant execute on function ops.end_session(uuid) to ops_service;
