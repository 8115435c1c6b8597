-- Whether a signed-in session is still good: the user exists and is active (checked as cookies slide).
create or replace function ops.session_user_active(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce((select u.is_active from registry.users u where u.id = p_user_id), false)
$$;
revoke all on function ops.session_user_active(uuid) from public, ops_app, ops_service;
grant execute on function ops.session_user_active(uuid) to ops_service;
