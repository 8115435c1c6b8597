-- Resolves a personal access token (by its hash) to its user and scope;
-- no row when unknown, revoked, expired or the user is inactive.
create or replace function ops.authenticate_api_token(p_token_hash bytea)
returns table (token_id uuid, user_id uuid, scope text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_last_used  timestamptz;
begin
    select t.id, t.user_id, t.scope, t.last_used_at into token_id, user_id, scope, v_last_used
      from ops.api_tokens t
      join registry.users u on u.id = t.user_id
     where t.token_hash = p_token_hash
       and t.revoked_at is null
       and (t.expires_at is null or t.expires_at > pg_catalog.now())
       and u.is_active;
    if not found then
        return;
    end if;

    if v_last_used is null or v_last_used < pg_catalog.now() - interval '1 minute' then
        update ops.api_tokens t set last_used_at = pg_catalog.now() where t.id = token_id;
    end if;
    return next;
end
$$;
revoke all on function ops.authenticate_api_token(bytea) from public, ops_app, ops_service;
grant execute on function ops.authenticate_api_token(bytea) to ops_service;
