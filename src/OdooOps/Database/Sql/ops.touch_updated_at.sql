-- Keeps updated_at honest without relying on every caller.
create or replace function ops.touch_updated_at()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;
revoke all on function ops.touch_updated_at() from public, ops_app, ops_service;
