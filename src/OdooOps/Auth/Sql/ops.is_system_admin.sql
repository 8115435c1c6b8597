-- Whether the acting user is an active system admin (shared runners, scheduled jobs, the system project).
create or replace function ops.is_system_admin()
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(
               (select u.is_system_admin and u.is_active
                  from registry.users u
                 where u.id = ops.current_user_id()),
               false)
$$;
revoke all on function ops.is_system_admin() from public, ops_app, ops_service;
grant execute on function ops.is_system_admin() to ops_app;
