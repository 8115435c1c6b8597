-- The acting user if they exist and are active, else null. Policies on a user's own rows (profile, tokens,
-- audit entries, shared runners) use it so an inactive user has no access, like an anonymous one.
create or replace function ops.active_user_id()
returns uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.id
      from registry.users u
     where u.id = ops.current_user_id()
       and u.is_active
$$;
revoke all on function ops.active_user_id() from public, ops_app, ops_service;
grant execute on function ops.active_user_id() to ops_app;
