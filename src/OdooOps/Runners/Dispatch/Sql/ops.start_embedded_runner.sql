-- The embedded runner of `serve`: a fresh token at every start, but a runner an admin disabled stays disabled.
create or replace function ops.start_embedded_runner(p_name text, p_capacity int, p_labels text[], p_version text, p_token_hash bytea)
returns table (id uuid, disabled boolean)
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    insert into ops.runners (org_id, name, labels, capacity, token_hash, version, last_seen_at, embedded)
    values (null, p_name, coalesce(p_labels, '{}'), p_capacity, p_token_hash, p_version, pg_catalog.now(), true)
    on conflict (name) where embedded do update
       set token_hash = excluded.token_hash, capacity = excluded.capacity, labels = excluded.labels,
           version = excluded.version, last_seen_at = excluded.last_seen_at
    returning ops.runners.id, ops.runners.disabled_at is not null;
$$;
revoke all on function ops.start_embedded_runner(text, int, text[], text, bytea) from public, ops_app, ops_service;
grant execute on function ops.start_embedded_runner(text, int, text[], text, bytea) to ops_service;
