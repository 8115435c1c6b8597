-- Instances: every successful build ends in a running Odoo server, supervised by the runner that built it.

-- A runner host serves instances (or only builds), up to a capacity, at an address the proxy reaches its ports at.
alter table ops.runners
    add column serves_instances   boolean not null default true,
    add column instance_capacity  int not null default 20 check (instance_capacity between 0 and 1000),
    add column instance_address   text check (instance_address ~ '^[A-Za-z0-9.:\[\]-]{1,253}$'),
    add column instances_seen_at  timestamptz;

-- A development instance lives for a time (Odoo.sh: 3 days), at most N per project (the oldest stops first).
-- host_label: the project's part of its instances' host names, unique across all organisations (slugs are per org).
alter table ops.projects
    add column dev_instance_ttl   interval not null default interval '3 days'
        check (dev_instance_ttl between interval '10 minutes' and interval '90 days'),
    add column max_dev_instances  int not null default 5 check (max_dev_instances between 0 and 100),
    add column host_label         text check (host_label ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');
create unique index projects_host_label_idx on ops.projects (host_label);

-- A branch's instance settings; runner_id pins a production or staging branch to the host its filestore lives on.
alter table ops.branches
    add column instance_workers       int not null default 0 check (instance_workers between 0 and 64),
    add column instance_cron_threads  int not null default 1 check (instance_cron_threads between 0 and 16),
    add column instance_memory_mb     int not null default 2048 check (instance_memory_mb between 128 and 262144),
    add column instance_cpus          numeric(5, 2) not null default 1 check (instance_cpus > 0 and instance_cpus <= 256),
    add column runner_id              uuid references ops.runners (id) on delete set null,
    add column host_label             text check (host_label ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');
create unique index branches_host_label_idx on ops.branches (project_id, host_label);

-- One Odoo server for one branch at one build (its release). `current`: the one the branch's host names reach.
-- desired/restart_generation are what people ask for; state/reason/ports/pid are what the runner reports.
-- retired: stopped for good (superseded, expired, removed); the runner then deletes its database when
-- drop_database and reports it cleaned (after which it is no longer sent to the runner).
create table ops.instances (
    id                  uuid primary key default gen_random_uuid(),
    project_id          uuid not null,
    branch_id           uuid not null,
    build_id            uuid not null references ops.builds (id) on delete cascade,
    runner_id           uuid references ops.runners (id) on delete set null,
    stage               text not null check (stage in ('development', 'staging', 'production')),
    state               text not null default 'starting'
                        check (state in ('starting', 'running', 'unhealthy', 'stopping', 'stopped', 'failed', 'unknown')),
    reason              text check (char_length(reason) <= 2000),
    desired             text not null default 'running' check (desired in ('running', 'stopped')),
    restart_generation  int not null default 0 check (restart_generation >= 0),
    is_current          boolean not null default false,
    database_name       text not null check (database_name ~ '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$'),
    drop_database       boolean not null default false,
    http_port           int check (http_port between 1 and 65535),
    gevent_port         int check (gevent_port between 1 and 65535),
    pid                 int,
    restarts            int not null default 0 check (restarts >= 0),
    log_seq_next        bigint not null default 0 check (log_seq_next >= 0),
    started_at          timestamptz,
    ready_at            timestamptz,
    stopped_at          timestamptz,
    expires_at          timestamptz,
    retired_at          timestamptz,
    cleaned_at          timestamptz,
    downtime_ms         bigint check (downtime_ms >= 0),
    replaces_id         uuid references ops.instances (id) on delete set null,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    unique (project_id, id),
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.instances enable row level security;
create unique index instances_current_idx on ops.instances (branch_id) where is_current;
create index instances_project_idx on ops.instances (project_id, created_at desc);
create index instances_runner_idx on ops.instances (runner_id) where retired_at is null;
create index instances_expiry_idx on ops.instances (expires_at) where retired_at is null and expires_at is not null;

-- An instance's Odoo log, numbered by the runner (log_seq_next says where it goes on after a runner restart).
create table ops.instance_logs (
    instance_id  uuid not null references ops.instances (id) on delete cascade,
    project_id   uuid not null,
    seq          bigint not null check (seq >= 0),
    ts           timestamptz not null default now(),
    level        text not null default 'INFO' check (level in ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')),
    line         text not null,
    primary key (instance_id, seq)
);
alter table ops.instance_logs enable row level security;
create index instance_logs_ts_idx on ops.instance_logs (ts);

-- A branch's own host names, unique across every organisation (a name routes to one instance only).
create table ops.instance_domains (
    id           uuid primary key default gen_random_uuid(),
    project_id   uuid not null,
    branch_id    uuid not null,
    name         text not null check (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
                                      and char_length(name) <= 253),
    verified_at  timestamptz,
    checked_at   timestamptz,
    check_error  text check (char_length(check_error) <= 1000),
    created_by   uuid references registry.users (id) on delete set null,
    created_at   timestamptz not null default now(),
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.instance_domains enable row level security;
create unique index instance_domains_name_idx on ops.instance_domains (name);
create index instance_domains_branch_idx on ops.instance_domains (branch_id);

-- The ingest token a runner sends an instance's samples with (one per project and runner; only its hash is kept).
alter table ops.ingest_tokens add column runner_id uuid references ops.runners (id) on delete cascade;
create unique index ingest_tokens_runner_idx on ops.ingest_tokens (project_id, runner_id) where runner_id is not null and revoked_at is null;
