-- A runner token (by its hash) to its runner; none when unknown or disabled. Marks the runner seen (at most every
-- 10 s, so that heartbeats do not rewrite the row each second).
create or replace function ops.authenticate_runner(p_token_hash bytea)
returns table (id uuid, org_id uuid, name text, capacity int, labels text[])
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update ops.runners r set last_seen_at = pg_catalog.now()
     where r.token_hash = p_token_hash and r.disabled_at is null
       and (r.last_seen_at is null or r.last_seen_at < pg_catalog.now() - interval '10 seconds');
    return query
    select r.id, r.org_id, r.name, r.capacity, r.labels from ops.runners r
     where r.token_hash = p_token_hash and r.disabled_at is null;
end
$$;
revoke all on function ops.authenticate_runner(bytea) from public, ops_app, ops_service;
grant execute on function ops.authenticate_runner(bytea) to ops_service;
