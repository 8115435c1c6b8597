-- Production you can trust: backups proven restorable, runner tasks that take and check them, deployments.

-- A project's backup and staging settings. backup_time: when the daily backup of its production branch is due (UTC).
-- keep_*: the daily backups kept (Odoo.sh's rule: 7 daily, 4 weekly, 3 monthly). staging_source: what a staging build
-- starts from ('backup': the latest verified production backup; 'live': a copy of the production database taken now).
alter table ops.projects
    add column backup_time          time not null default time '03:00',
    add column backup_keep_daily    int not null default 7 check (backup_keep_daily between 1 and 366),
    add column backup_keep_weekly   int not null default 4 check (backup_keep_weekly between 0 and 520),
    add column backup_keep_monthly  int not null default 3 check (backup_keep_monthly between 0 and 120),
    add column staging_source       text not null default 'backup' check (staging_source in ('backup', 'live'));

-- One backup of a branch: its Odoo database (pg_dump, custom format) and its filestore in one zip, stored by serve
-- (a folder, or an S3 bucket) under storage_key. status: the taking; verification: the restore that proves it.
create table ops.backups (
    id                   uuid primary key default gen_random_uuid(),
    project_id           uuid not null,
    branch_id            uuid not null,
    kind                 text not null check (kind in ('daily', 'manual', 'pre-deploy', 'pre-restore', 'import')),
    status               text not null default 'pending' check (status in ('pending', 'running', 'succeeded', 'failed')),
    reason               text check (char_length(reason) <= 2000),
    verification         text not null default 'pending' check (verification in ('pending', 'running', 'verified', 'failed')),
    verification_reason  text check (char_length(verification_reason) <= 2000),
    verified_at          timestamptz,
    runner_id            uuid references ops.runners (id) on delete set null,
    build_id             uuid references ops.builds (id) on delete set null,
    requested_by         uuid references registry.users (id) on delete set null,
    database_name        text check (database_name ~ '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$'),
    storage              text check (storage in ('local', 's3')),
    storage_key          text check (char_length(storage_key) <= 1024),
    size_bytes           bigint check (size_bytes >= 0),
    sha256               text check (sha256 ~ '^[0-9a-f]{64}$'),
    duration_ms          bigint check (duration_ms >= 0),
    odoo_version         text check (char_length(odoo_version) <= 64),
    modules              jsonb,
    table_count          int check (table_count >= 0),
    filestore_files      int check (filestore_files >= 0),
    filestore_bytes      bigint check (filestore_bytes >= 0),
    filestore_sha256     text check (filestore_sha256 ~ '^[0-9a-f]{64}$'),
    created_at           timestamptz not null default now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    deleted_at           timestamptz,
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.backups enable row level security;
create index backups_branch_created_idx on ops.backups (branch_id, created_at desc);
create index backups_project_created_idx on ops.backups (project_id, created_at desc);

-- Work a runner does on a branch's host that is not a build: take a backup, verify one (restore into a scratch
-- database, check, drop), restore one into a branch. Leased like builds (lease_id, lease_until, attempts), with a log.
create table ops.runner_tasks (
    id                uuid primary key default gen_random_uuid(),
    project_id        uuid not null,
    branch_id         uuid not null,
    kind              text not null check (kind in ('backup', 'verify', 'restore')),
    backup_id         uuid not null references ops.backups (id) on delete cascade,
    runner_id         uuid references ops.runners (id) on delete set null,
    status            text not null default 'queued'
                      check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    detail            text check (char_length(detail) <= 4000),
    options           jsonb not null default '{}',
    result            jsonb,
    attempt           int not null default 0 check (attempt >= 0),
    max_attempts      int not null default 3 check (max_attempts between 1 and 10),
    lease_id          uuid,
    lease_until       timestamptz,
    leased_runner_id  uuid references ops.runners (id) on delete set null,
    cancel_requested  boolean not null default false,
    log_seq_next      bigint not null default 0 check (log_seq_next >= 0),
    requested_by      uuid references registry.users (id) on delete set null,
    created_at        timestamptz not null default now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.runner_tasks enable row level security;
create index runner_tasks_queued_idx on ops.runner_tasks (runner_id, created_at) where status = 'queued';
create index runner_tasks_running_idx on ops.runner_tasks (lease_until) where status = 'running';
create index runner_tasks_backup_idx on ops.runner_tasks (backup_id);
create index runner_tasks_branch_created_idx on ops.runner_tasks (branch_id, created_at desc);

create table ops.runner_task_logs (
    task_id     uuid not null references ops.runner_tasks (id) on delete cascade,
    project_id  uuid not null,
    seq         bigint not null check (seq >= 0),
    ts          timestamptz not null default now(),
    stream      text not null default 'system' check (stream in ('stdout', 'stderr', 'system')),
    line        text not null check (char_length(line) <= 16384),
    primary key (task_id, seq)
);
alter table ops.runner_task_logs enable row level security;

-- Deployments: a release going live on a branch. The outcomes replace the old build-like statuses (never written).
alter table ops.deployments drop constraint deployments_status_check;
update ops.deployments set status = case status when 'success' then 'superseded' when 'rolled_back' then 'rolled_back' else 'failed' end;
alter table ops.deployments
    alter column status set default 'live',
    add constraint deployments_status_check
        check (status in ('deploying', 'live', 'superseded', 'failed', 'reverted', 'rolled_back')),
    add column kind                  text not null default 'build' check (kind in ('build', 'rollback')),
    add column instance_id           uuid references ops.instances (id) on delete set null,
    add column commit_sha            text,
    add column switch_ms             bigint check (switch_ms >= 0),
    add column reason                text check (char_length(reason) <= 2000),
    add column rollback_of           uuid references ops.deployments (id) on delete set null,
    add column reverted_to_build_id  uuid references ops.builds (id) on delete set null,
    add column backup_id             uuid references ops.backups (id) on delete set null,
    add column ended_at              timestamptz;
create unique index deployments_one_live_idx on ops.deployments (branch_id) where status = 'live';
