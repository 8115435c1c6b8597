-- Secret values still stored in plain text (by a version before sealing, or a hand-written insert), for the server to
-- seal as it starts: variables (build_id null) and the snapshots of builds queued with them. Only those; a sealed
-- value is never here. ops_service only (the start-up step EnvSecretSeal).
create or replace function ops.env_secrets_to_seal()
returns table (build_id uuid, project_id uuid, stage text, name text, value text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select null::uuid, v.project_id, v.stage, v.name, v.value
      from ops.env_vars v
     where v.is_secret and v.sealed is null and v.value is not null
    union all
    select s.build_id, b.project_id, s.stage, e.key, e.value
      from ops_private.build_snapshots s
      join ops.builds b on b.id = s.build_id
     cross join lateral pg_catalog.jsonb_each_text(s.env) e
     where e.key operator(pg_catalog.=) any (s.secret_names)
$$;
revoke all on function ops.env_secrets_to_seal() from public, ops_app, ops_service;
grant execute on function ops.env_secrets_to_seal() to ops_service;
