-- Environment variables: a secret's value is kept encrypted by the server (sealed, AES-256-GCM with the secrets key,
-- which is never in the database), who changed a variable last, and when each stage's variables last changed (an
-- instance started before that runs with older ones and needs a restart).
--
-- A migration has no secrets key, so the secrets stored in plain text until now stay in `value` here; `serve` seals
-- them as it starts (EnvVars/EnvSecretSeal), before it listens, and clears `value`. Until then the runner API still
-- hands them out as they are.

alter table ops.env_vars
    alter column value drop not null,
    add column sealed text check (char_length(sealed) <= 65536),
    add column updated_by uuid references registry.users (id) on delete set null,
    add constraint env_vars_value_or_sealed check (
        case when is_secret then (value is null) <> (sealed is null)
             else value is not null and sealed is null end);

-- A queued build's secrets, sealed like the variables they were copied from (env keeps the plain ones).
alter table ops_private.build_snapshots add column sealed_env jsonb not null default '{}';

create table ops.env_stage_changes (
    project_id  uuid not null references ops.projects (id) on delete cascade,
    stage       text not null check (stage in ('development', 'staging', 'production')),
    changed_at  timestamptz not null default now(),
    primary key (project_id, stage)
);
alter table ops.env_stage_changes enable row level security;

insert into ops.env_stage_changes (project_id, stage, changed_at)
select project_id, stage, max(updated_at) from ops.env_vars group by project_id, stage;

-- Both answer a sealed_env column now: their files define the new return types.
drop function if exists ops.claim_build_jobs(uuid, int, int);
drop function if exists ops.sync_runner_instances(uuid, text, jsonb);

-- env_vars_stamp stamps updated_at now, with who and the stage's change.
drop trigger if exists env_vars_touch_updated_at on ops.env_vars;
