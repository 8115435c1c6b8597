-- An org admin's registration token (oo_reg_…, by its hash) becomes a runner with its own token (hash). The token
-- may register several runners until it expires or is revoked. Refused: SQLSTATE OOR01 (the API says 401).
create or replace function ops.register_runner(p_registration_hash bytea, p_name text, p_labels text[], p_capacity int,
                                    p_version text, p_token_hash bytea)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_token  ops.runner_registration_tokens;
    v_id     uuid;
begin
    select * into v_token from ops.runner_registration_tokens t
     where t.token_hash = p_registration_hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > pg_catalog.now())
       for update;
    if not found then
        raise exception 'Unknown, expired or revoked registration token.' using errcode = 'OOR01';
    end if;
    insert into ops.runners (org_id, name, labels, capacity, token_hash, version, last_seen_at)
    values (v_token.org_id, p_name, coalesce(p_labels, '{}'), p_capacity, p_token_hash, p_version, pg_catalog.now())
    returning id into v_id;
    update ops.runner_registration_tokens t set used_at = pg_catalog.now() where t.id = v_token.id;
    return v_id;
end
$$;
revoke all on function ops.register_runner(bytea, text, text[], int, text, bytea) from public, ops_app, ops_service;
grant execute on function ops.register_runner(bytea, text, text[], int, text, bytea) to ops_service;
