-- 0002: ops tables, their triggers, and metric partition maintenance.
--
-- RLS is enabled here, at creation, so no table is ever readable without
-- policies; policies and grants come in 0003.
-- Every project-scoped table carries project_id itself so each RLS policy is a
-- single "project_id = any(...)" predicate.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

-- ---------------------------------------------------------------------------
-- projects
-- ---------------------------------------------------------------------------
create table ops.projects (
    id                uuid primary key default gen_random_uuid(),
    org_id            uuid not null references registry.orgs (id) on delete cascade,
    name              text not null check (char_length(name) between 1 and 200),
    slug              text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    repo_url          text not null check (char_length(repo_url) between 1 and 2000),
    runtime_version   text not null default '19.0' check (runtime_version ~ '^(saas-)?[0-9]{1,3}\.[0-9]{1,2}$'),
    webhook_secret    text,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    last_activity_at  timestamptz not null default now(),
    archived_at       timestamptz,
    unique (org_id, slug)
);
alter table ops.projects enable row level security;

create index projects_activity_idx on ops.projects (last_activity_at desc) where archived_at is null;

-- Only real edits move updated_at; activity bumps (last_activity_at) do not.
create trigger projects_touch_updated_at
    before update of org_id, name, slug, repo_url, runtime_version, webhook_secret, archived_at on ops.projects
    for each row execute function ops.touch_updated_at();

-- ---------------------------------------------------------------------------
-- branches
-- ---------------------------------------------------------------------------
create table ops.branches (
    id             uuid primary key default gen_random_uuid(),
    project_id     uuid not null references ops.projects (id) on delete cascade,
    name           text not null check (char_length(name) between 1 and 200 and name !~ '[[:space:][:cntrl:]]'),
    stage          text not null default 'development' check (stage in ('development', 'staging', 'production')),
    is_production  boolean not null default false,
    archived_at    timestamptz,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    -- is_production is a denormalised convenience; it can never disagree with stage
    constraint branches_is_production_matches_stage check (is_production = (stage = 'production')),
    unique (project_id, name),
    -- target of composite FKs: "this branch belongs to that project"
    unique (project_id, id)
);
alter table ops.branches enable row level security;

-- At most one live production branch per project, enforced by the database.
create unique index branches_one_production_idx
    on ops.branches (project_id)
    where stage = 'production' and archived_at is null;

create trigger branches_touch_updated_at
    before update on ops.branches
    for each row execute function ops.touch_updated_at();

-- ---------------------------------------------------------------------------
-- runners (before run_queue, which references them)
-- ---------------------------------------------------------------------------
create table ops.runners (
    id            uuid primary key default gen_random_uuid(),
    org_id        uuid references registry.orgs (id) on delete cascade,   -- null = shared runner
    name          text not null check (char_length(name) between 1 and 200),
    labels        text[] not null default '{}',
    capacity      int not null default 1 check (capacity between 1 and 64),
    token_hash    bytea unique,
    version       text,
    last_seen_at  timestamptz,
    created_at    timestamptz not null default now(),
    disabled_at   timestamptz
);
alter table ops.runners enable row level security;

create index runners_org_idx on ops.runners (org_id);

create table ops.runner_registration_tokens (
    id          uuid primary key default gen_random_uuid(),
    org_id      uuid references registry.orgs (id) on delete cascade,    -- null = registers shared runners
    token_hash  bytea not null unique,
    created_by  uuid references registry.users (id) on delete set null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz,
    used_at     timestamptz,
    revoked_at  timestamptz
);
alter table ops.runner_registration_tokens enable row level security;

-- ---------------------------------------------------------------------------
-- builds
-- ---------------------------------------------------------------------------
create table ops.builds (
    id                   uuid primary key default gen_random_uuid(),
    project_id           uuid not null,
    branch_id            uuid not null,
    status               text not null default 'queued'
                         check (status in ('queued', 'running', 'success', 'warning', 'failed', 'cancelled', 'timed_out')),
    trigger              text not null default 'manual'
                         check (trigger in ('manual', 'push', 'api', 'schedule', 'rebuild')),
    commit_sha           text check (commit_sha ~ '^[0-9a-f]{4,64}$'),   -- null: build names no commit
    commit_message       text,
    triggered_by         uuid references registry.users (id) on delete set null,
    attempt              int not null default 1 check (attempt >= 1),
    cancel_requested_at  timestamptz,
    queued_at            timestamptz not null default now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    result_detail        text,
    modules              jsonb not null default '[]',
    created_at           timestamptz not null default now(),
    -- the build's branch must belong to the build's project
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.builds enable row level security;

create index builds_project_created_idx on ops.builds (project_id, created_at desc);
create index builds_branch_created_idx on ops.builds (branch_id, created_at desc);
create index builds_active_status_idx on ops.builds (status, queued_at) where status in ('queued', 'running');

-- ---------------------------------------------------------------------------
-- run_queue: one row per build waiting for / leased by a runner
-- ---------------------------------------------------------------------------
create table ops.run_queue (
    build_id      uuid primary key references ops.builds (id) on delete cascade,
    project_id    uuid not null,
    state         text not null default 'queued' check (state in ('queued', 'leased')),
    priority      int not null default 0,
    attempts      int not null default 0 check (attempts >= 0),
    max_attempts  int not null default 3 check (max_attempts >= 1),
    labels        text[] not null default '{}',
    lease_id      uuid,
    lease_owner   uuid references ops.runners (id) on delete set null,
    lease_until   timestamptz,
    enqueued_at   timestamptz not null default now(),
    available_at  timestamptz not null default now(),
    check (state = 'queued' or lease_until is not null)
);
alter table ops.run_queue enable row level security;

-- The claim: "highest priority, oldest first, among available queued rows"
-- walks this partial index in order (… for update skip locked limit n).
create index run_queue_claim_idx on ops.run_queue (priority desc, enqueued_at, available_at) where state = 'queued';
-- Lease expiry sweeps.
create index run_queue_lease_idx on ops.run_queue (lease_until) where state = 'leased';
create index run_queue_project_idx on ops.run_queue (project_id);

-- Enqueue every build inserted as 'queued', so one INSERT into ops.builds is
-- "create build + queue it". SECURITY DEFINER: callers have no rights on
-- run_queue.
create function ops.builds_enqueue()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_stage text;
begin
    select b.stage into v_stage from ops.branches b where b.id = new.branch_id;

    insert into ops.run_queue (build_id, project_id, priority)
    values (
        new.id,
        new.project_id,
        case v_stage when 'production' then 300 when 'staging' then 200 else 100 end
      + case new.trigger when 'push' then 10 when 'schedule' then 0 else 20 end   -- manual/api/rebuild
    )
    on conflict (build_id) do nothing;
    return null;
end
$$;
revoke execute on function ops.builds_enqueue() from public;

create trigger builds_enqueue
    after insert on ops.builds
    for each row when (new.status = 'queued')
    execute function ops.builds_enqueue();

-- A build that reaches a terminal status leaves the queue.
create function ops.builds_dequeue()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    delete from ops.run_queue q where q.build_id = new.id;
    return null;
end
$$;
revoke execute on function ops.builds_dequeue() from public;

create trigger builds_dequeue
    after update of status on ops.builds
    for each row
    when (old.status in ('queued', 'running')
          and new.status in ('success', 'warning', 'failed', 'cancelled', 'timed_out'))
    execute function ops.builds_dequeue();

-- Project activity (for "recently active first" lists). SECURITY DEFINER
-- because updating ops.projects needs admin rights the acting user may lack.
-- Best effort: if another transaction holds the project row (e.g. it is
-- bumping it too), skip rather than wait, so concurrent builds and branch
-- changes of one project never queue up behind each other on this row.
create function ops.bump_project_activity()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update ops.projects p
       set last_activity_at = pg_catalog.now()
     where p.id = (select p2.id
                     from ops.projects p2
                    where p2.id = new.project_id
                      and p2.last_activity_at < pg_catalog.now()   -- at most once per transaction
                      for no key update skip locked);
    return null;
end
$$;
revoke execute on function ops.bump_project_activity() from public;

create trigger builds_bump_project_activity
    after insert on ops.builds
    for each row execute function ops.bump_project_activity();

create trigger branches_bump_project_activity
    after insert or update on ops.branches
    for each row execute function ops.bump_project_activity();

-- ---------------------------------------------------------------------------
-- build steps and logs (written by internal functions; read-only for the app)
-- ---------------------------------------------------------------------------
create table ops.build_steps (
    build_id     uuid not null references ops.builds (id) on delete cascade,
    project_id   uuid not null,
    seq          int not null check (seq >= 0),
    name         text not null,
    status       text not null default 'pending'
                 check (status in ('pending', 'running', 'success', 'warning', 'failed', 'skipped', 'cancelled', 'timed_out')),
    exit_code    int,
    started_at   timestamptz,
    finished_at  timestamptz,
    duration_ms  bigint check (duration_ms is null or duration_ms >= 0),
    primary key (build_id, seq)
);
alter table ops.build_steps enable row level security;

create table ops.build_logs (
    build_id    uuid not null references ops.builds (id) on delete cascade,
    project_id  uuid not null,
    seq         bigint not null check (seq >= 0),
    ts          timestamptz not null default now(),
    stream      text not null default 'stdout' check (stream in ('stdout', 'stderr', 'system')),
    line        text not null,
    primary key (build_id, seq)
);
alter table ops.build_logs enable row level security;

-- ---------------------------------------------------------------------------
-- metrics
-- ---------------------------------------------------------------------------
-- Raw samples, one partition per UTC day in schema ops_partitions.
-- The PK serves "one metric of one project over a time range" and is the
-- duplicate key (project, branch, metric, ts) for ingest's ON CONFLICT.
-- No FK to branches: it would cost a lookup per sample on the hot ingest path
-- and a scan of all samples on branch delete; retention drops whole partitions.
create table ops.metric_samples (
    project_id   uuid not null,
    branch_id    uuid not null,
    metric       text not null check (metric ~ '^[a-z][a-z0-9_.]{0,63}$'),
    ts           timestamptz not null,
    value        double precision not null check (value not in ('NaN', 'Infinity', '-Infinity')),
    labels       jsonb,
    received_at  timestamptz not null default now(),
    primary key (project_id, metric, ts, branch_id)
) partition by range (ts);
alter table ops.metric_samples enable row level security;

-- Cheap "what arrived since X" scans for incremental rollups.
create index metric_samples_received_brin on ops.metric_samples using brin (received_at);

create table ops.metric_rollups_minute (
    project_id  uuid not null,
    branch_id   uuid not null,
    metric      text not null,
    bucket      timestamptz not null,
    count       bigint not null,
    sum         double precision not null,
    min         double precision not null,
    max         double precision not null,
    last        double precision not null,
    last_ts     timestamptz not null,
    updated_at  timestamptz not null default now(),
    primary key (project_id, metric, bucket, branch_id)
);
alter table ops.metric_rollups_minute enable row level security;

create table ops.metric_rollups_hour (
    project_id  uuid not null,
    branch_id   uuid not null,
    metric      text not null,
    bucket      timestamptz not null,
    count       bigint not null,
    sum         double precision not null,
    min         double precision not null,
    max         double precision not null,
    last        double precision not null,
    last_ts     timestamptz not null,
    updated_at  timestamptz not null default now(),
    primary key (project_id, metric, bucket, branch_id)
);
alter table ops.metric_rollups_hour enable row level security;

-- Creates ops_partitions.metric_samples_pYYYYMMDD for each UTC day in
-- [p_from, p_from + p_days). Idempotent; returns how many were created.
-- SECURITY DEFINER: partitions are owned by the schema owner whoever asks.
-- New partitions get no grants (reads go through the parent) and RLS on.
create function ops.ensure_metric_partitions(p_from date, p_days int)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_day      date;
    v_name     text;
    v_created  int := 0;
    v_locked   boolean := false;
begin
    if p_from is null or p_days is null or p_days < 1 then
        return 0;
    end if;
    if p_days > 366 then
        raise exception 'ensure_metric_partitions: p_days must be at most 366 (got %)', p_days
            using errcode = '22023';
    end if;

    for i in 0 .. p_days - 1 loop
        v_day  := p_from + i;
        v_name := 'metric_samples_p' || pg_catalog.to_char(v_day, 'YYYYMMDD');

        if pg_catalog.to_regclass('ops_partitions.' || v_name) is null then
            -- Only take the (transaction-long) lock when something is missing,
            -- so ingest into existing partitions never serializes on it.
            if not v_locked then
                perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('ops.metric_partitions'));
                v_locked := true;
            end if;
            -- re-check: a concurrent caller may have created it while we waited
            if pg_catalog.to_regclass('ops_partitions.' || v_name) is null then
                begin
                    -- bounds are explicit UTC instants, independent of the session TimeZone
                    execute pg_catalog.format(
                        'create table ops_partitions.%I partition of ops.metric_samples for values from (%L) to (%L)',
                        v_name,
                        v_day::text || ' 00:00:00+00',
                        (v_day + 1)::text || ' 00:00:00+00');
                    execute pg_catalog.format('alter table ops_partitions.%I enable row level security', v_name);
                    v_created := v_created + 1;
                exception when duplicate_table then
                    -- the re-check can read a catalog snapshot from before a racing creator committed: theirs will do
                    null;
                end;
            end if;
        end if;
    end loop;

    return v_created;
end
$$;
revoke execute on function ops.ensure_metric_partitions(date, int) from public;

-- Retention: drops every day partition that lies entirely before p_before
-- (UTC day). Returns how many were dropped.
create function ops.drop_metric_partitions_before(p_before date)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_part     record;
    v_dropped  int := 0;
begin
    if p_before is null then
        return 0;
    end if;

    for v_part in
        select c.relname
          from pg_catalog.pg_inherits i
          join pg_catalog.pg_class c on c.oid = i.inhrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where i.inhparent = 'ops.metric_samples'::pg_catalog.regclass
           and n.nspname = 'ops_partitions'
           and c.relname ~ '^metric_samples_p[0-9]{8}$'
           -- the partition covers [day, day + 1); drop when day + 1 <= p_before
           and pg_catalog.to_date(pg_catalog.substr(c.relname, 17, 8), 'YYYYMMDD') + 1 <= p_before
         order by c.relname
    loop
        execute pg_catalog.format('drop table ops_partitions.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    end loop;

    return v_dropped;
end
$$;
revoke execute on function ops.drop_metric_partitions_before(date) from public;

-- Yesterday (late samples) through a week ahead; the scheduler keeps it rolling.
select ops.ensure_metric_partitions(current_date - 1, 9);

-- ---------------------------------------------------------------------------
-- advisories
-- ---------------------------------------------------------------------------
create table ops.advisories (
    id                uuid primary key default gen_random_uuid(),
    project_id        uuid not null references ops.projects (id) on delete cascade,
    branch_id         uuid,
    rule              text not null,
    fingerprint       text not null,
    severity          text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
    title             text not null default '',
    detail            text,
    remediation       text,
    measured_value    double precision,
    status            text not null default 'open' check (status in ('open', 'resolved', 'suppressed')),
    suppressed_until  timestamptz,
    suppress_reason   text,
    first_seen_at     timestamptz not null default now(),
    last_seen_at      timestamptz not null default now(),
    resolved_at       timestamptz,
    created_at        timestamptz not null default now(),
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.advisories enable row level security;

-- An open or suppressed advisory is never duplicated (scan upserts on this).
create unique index advisories_live_fingerprint_idx
    on ops.advisories (project_id, fingerprint)
    where status <> 'resolved';
create index advisories_project_status_idx on ops.advisories (project_id, status, last_seen_at desc);

-- ---------------------------------------------------------------------------
-- project members, tokens
-- ---------------------------------------------------------------------------
create table ops.project_members (
    project_id  uuid not null references ops.projects (id) on delete cascade,
    user_id     uuid not null references registry.users (id) on delete cascade,
    role        text not null check (role in ('admin', 'developer', 'tester', 'viewer')),
    created_at  timestamptz not null default now(),
    primary key (project_id, user_id)
);
alter table ops.project_members enable row level security;

create index project_members_user_idx on ops.project_members (user_id, project_id);

-- Personal access tokens. Only the hash is stored.
create table ops.api_tokens (
    id            uuid primary key default gen_random_uuid(),
    user_id       uuid not null references registry.users (id) on delete cascade,
    name          text not null check (char_length(name) between 1 and 200),
    token_prefix  text not null check (char_length(token_prefix) between 1 and 32),
    token_hash    bytea not null unique,
    scope         text not null default 'read' check (scope in ('read', 'write')),
    created_at    timestamptz not null default now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
alter table ops.api_tokens enable row level security;

create index api_tokens_user_idx on ops.api_tokens (user_id);

-- Per-project tokens for the metrics agent.
create table ops.ingest_tokens (
    id            uuid primary key default gen_random_uuid(),
    project_id    uuid not null references ops.projects (id) on delete cascade,
    name          text not null check (char_length(name) between 1 and 200),
    token_prefix  text not null check (char_length(token_prefix) between 1 and 32),
    token_hash    bytea not null unique,
    created_by    uuid references registry.users (id) on delete set null,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
alter table ops.ingest_tokens enable row level security;

create index ingest_tokens_project_idx on ops.ingest_tokens (project_id);

-- ---------------------------------------------------------------------------
-- audit log (append-only for the app). No FKs: entries outlive what they describe.
-- ---------------------------------------------------------------------------
create table ops.audit_log (
    id             bigint generated always as identity primary key,
    org_id         uuid,
    project_id     uuid,
    actor_user_id  uuid,
    actor          text not null default 'user',   -- 'user', 'token', 'system', 'runner', ...
    action         text not null check (char_length(action) between 1 and 200),
    target_type    text,
    target_id      text,
    before         jsonb,
    after          jsonb,
    ip             inet,
    created_at     timestamptz not null default now()
);
alter table ops.audit_log enable row level security;

create index audit_log_org_created_idx on ops.audit_log (org_id, created_at desc);
create index audit_log_project_created_idx on ops.audit_log (project_id, created_at desc) where project_id is not null;

-- ---------------------------------------------------------------------------
-- environment variables per project stage
-- ---------------------------------------------------------------------------
create table ops.env_vars (
    id          uuid primary key default gen_random_uuid(),
    project_id  uuid not null references ops.projects (id) on delete cascade,
    stage       text not null check (stage in ('development', 'staging', 'production')),
    name        text not null check (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
    value       text not null,
    is_secret   boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    unique (project_id, stage, name)
);
alter table ops.env_vars enable row level security;

create trigger env_vars_touch_updated_at
    before update on ops.env_vars
    for each row execute function ops.touch_updated_at();

-- ---------------------------------------------------------------------------
-- deployments (written by internal functions; read-only for the app)
-- ---------------------------------------------------------------------------
create table ops.deployments (
    id           uuid primary key default gen_random_uuid(),
    project_id   uuid not null,
    branch_id    uuid not null,
    build_id     uuid references ops.builds (id) on delete set null,
    stage        text not null check (stage in ('development', 'staging', 'production')),
    status       text not null default 'pending' check (status in ('pending', 'running', 'success', 'failed', 'rolled_back')),
    url          text,
    created_by   uuid references registry.users (id) on delete set null,
    started_at   timestamptz,
    finished_at  timestamptz,
    created_at   timestamptz not null default now(),
    foreign key (project_id, branch_id) references ops.branches (project_id, id) on delete cascade
);
alter table ops.deployments enable row level security;

create index deployments_project_created_idx on ops.deployments (project_id, created_at desc);
create index deployments_branch_created_idx on ops.deployments (branch_id, created_at desc);

-- ---------------------------------------------------------------------------
-- scheduler job runs (system admins only)
-- ---------------------------------------------------------------------------
create table ops.job_runs (
    id           bigint generated always as identity primary key,
    job          text not null,
    node         text,
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    outcome      text not null default 'running' check (outcome in ('running', 'success', 'failed', 'skipped')),
    detail       text
);
alter table ops.job_runs enable row level security;

create index job_runs_job_started_idx on ops.job_runs (job, started_at desc);
