-- The ingest token a runner sends a project's instance samples with: one per project and runner, replaced (the old one
-- revoked) when the runner has lost it. Only for a project with an instance on this runner (P0002 otherwise). The
-- token is made by the caller; only its hash is stored.
create or replace function ops.issue_runner_ingest_token(p_runner_id uuid, p_project_id uuid, p_token_prefix text, p_token_hash bytea)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (select 1 from ops.instances i where i.runner_id = p_runner_id and i.project_id = p_project_id and i.cleaned_at is null) then
        raise exception 'No instance of project % on this runner.', p_project_id using errcode = 'P0002', column = 'project_id';
    end if;
    update ops.ingest_tokens t set revoked_at = pg_catalog.now()
     where t.project_id = p_project_id and t.runner_id = p_runner_id and t.revoked_at is null;
    insert into ops.ingest_tokens (project_id, name, token_prefix, token_hash, runner_id)
    select p_project_id, pg_catalog.left('runner ' || r.name, 200), p_token_prefix, p_token_hash, p_runner_id
      from ops.runners r where r.id = p_runner_id;
end
$$;
revoke all on function ops.issue_runner_ingest_token(uuid, uuid, text, bytea) from public, ops_app, ops_service;
grant execute on function ops.issue_runner_ingest_token(uuid, uuid, text, bytea) to ops_service;
