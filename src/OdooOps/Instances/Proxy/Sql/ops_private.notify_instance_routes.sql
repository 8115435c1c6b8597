-- Something the instance proxy routes by changed (an instance's state, ports or runner, a domain, a host label, a
-- runner's instance address): every serve process drops its route cache (PgNotifications, ops_instance_routes).
-- One notification per transaction: PostgreSQL folds identical ones.
create or replace function ops_private.notify_instance_routes()
returns trigger
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_catalog.pg_notify('ops_instance_routes', '');
    return null;
end
$$;
revoke all on function ops_private.notify_instance_routes() from public, ops_app, ops_service;
