-- The acting user, or null when anonymous. Invoker: reads only a setting.
create or replace function ops.current_user_id()
returns uuid
language sql
stable
as $$
    select nullif(pg_catalog.current_setting('ops.user_id', true), '')::uuid
$$;
revoke all on function ops.current_user_id() from public, ops_app, ops_service;
grant execute on function ops.current_user_id() to ops_app;
