-- Resolves an ingest token (by its hash) to its project; null when unknown,
-- revoked or the project is archived. Records last use (at most once a minute).
create or replace function ops.authenticate_ingest_token(p_token_hash bytea)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_token_id    uuid;
    v_project_id  uuid;
    v_last_used   timestamptz;
begin
    select t.id, t.project_id, t.last_used_at into v_token_id, v_project_id, v_last_used
      from ops.ingest_tokens t
      join ops.projects p on p.id = t.project_id
     where t.token_hash = p_token_hash
       and t.revoked_at is null
       and p.archived_at is null;
    if not found then
        return null;
    end if;

    if v_last_used is null or v_last_used < pg_catalog.now() - interval '1 minute' then
        update ops.ingest_tokens t set last_used_at = pg_catalog.now() where t.id = v_token_id;
    end if;
    return v_project_id;
end
$$;
revoke all on function ops.authenticate_ingest_token(bytea) from public, ops_app, ops_service;
grant execute on function ops.authenticate_ingest_token(bytea) to ops_service;
