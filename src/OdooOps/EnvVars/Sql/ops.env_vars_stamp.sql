-- Every change of an environment variable stamps the row (updated_at; updated_by, the acting user, null for the
-- server) and its stage (ops.env_stage_changes: changed_at, and revision + 1 — an instance whose server was started
-- with an older revision runs with older variables and needs a restart). The server sealing a secret an older version
-- stored in plain text changes how it is stored, not the variable: nothing is stamped then. SECURITY DEFINER: the app
-- may not write env_stage_changes. A removal only bumps the stage's existing row (there is one since the variable was
-- added), and not while the project itself is being deleted (the row goes with it).
create or replace function ops.env_vars_stamp()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'DELETE' then
        update ops.env_stage_changes c set changed_at = pg_catalog.now(), revision = c.revision + 1
         where c.project_id = old.project_id and c.stage = old.stage
           and exists (select 1 from ops.projects p where p.id = old.project_id);
        return old;
    end if;
    if tg_op = 'UPDATE' and ops.current_user_id() is null and old.is_secret and new.is_secret
       and old.sealed is null and new.value is null and new.sealed is not null then
        return new;
    end if;
    new.updated_at := pg_catalog.now();
    new.updated_by := ops.current_user_id();
    insert into ops.env_stage_changes as c (project_id, stage, changed_at)
    values (new.project_id, new.stage, pg_catalog.now())
    on conflict (project_id, stage) do update set changed_at = excluded.changed_at, revision = c.revision + 1;
    return new;
end
$$;
revoke all on function ops.env_vars_stamp() from public, ops_app, ops_service;
