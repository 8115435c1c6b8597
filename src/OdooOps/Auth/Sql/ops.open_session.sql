-- A new signed-in session of p_user_id (the id goes into the cookie). Sessions idle for longer than p_idle are
-- deleted on the way, so the table holds live sessions only.
create or replace function ops.open_session(p_user_id uuid, p_ip inet, p_idle interval)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id uuid;
begin
    delete from ops_private.sessions where last_seen_at < pg_catalog.now() - p_idle;
    insert into ops_private.sessions (user_id, ip) values (p_user_id, p_ip) returning id into v_id;
    return v_id;
end
$$;
revoke all on function ops.open_session(uuid, inet, interval) from public, ops_app, ops_service;
grant execute on function ops.open_session(uuid, inet, interval) to ops_service;
