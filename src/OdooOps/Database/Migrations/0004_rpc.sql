-- 0004: RPC functions.
--
-- User-facing RPCs are SECURITY INVOKER: RLS does the filtering, so the owner
-- (admin psql) sees everything and an ops_app session sees only what the
-- acting user may. Explicit role checks inside them only run when RLS is in
-- force for the caller (row_security_active), purely to give clearer errors;
-- the policies remain the authority.
-- Internal RPCs are SECURITY DEFINER with a pinned search_path and are
-- executable by ops_service only.
--
-- Error codes: P0002 not found (or not visible), 42501 not allowed,
-- 22023 invalid argument, 55000 wrong state (e.g. archived branch).
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

-- ===========================================================================
-- User-facing (invoker, granted to ops_app)
-- ===========================================================================

-- Projects with their production branch, latest build and open advisory
-- count; most recently active first. Archived projects are excluded.
create function ops.list_projects()
returns table (
    id                    uuid,
    org_id                uuid,
    name                  text,
    slug                  text,
    repo_url              text,
    runtime_version       text,
    created_at            timestamptz,
    updated_at            timestamptz,
    last_activity_at      timestamptz,
    production_branch_id  uuid,
    production_branch     text,
    last_build_id         uuid,
    last_build_status     text,
    last_build_at         timestamptz,
    open_advisories       int
)
language sql
stable
as $$
    select p.id, p.org_id, p.name, p.slug, p.repo_url, p.runtime_version,
           p.created_at, p.updated_at, p.last_activity_at,
           pb.id, pb.name,
           lb.id, lb.status, lb.created_at,
           coalesce(adv.n, 0)::int
      from ops.projects p
      left join lateral (
            select b.id, b.name
              from ops.branches b
             where b.project_id = p.id
               and b.stage = 'production'
               and b.archived_at is null
             limit 1
           ) pb on true
      left join lateral (
            select bu.id, bu.status, bu.created_at
              from ops.builds bu
             where bu.project_id = p.id
             order by bu.created_at desc   -- matches the (…, created_at desc) index: one row read
             limit 1
           ) lb on true
      left join lateral (
            select count(*) as n
              from ops.advisories a
             where a.project_id = p.id
               and a.status = 'open'
           ) adv on true
     where p.archived_at is null
     order by p.last_activity_at desc, p.name, p.id
$$;

-- Live branches of a project with their latest build:
-- production first, then staging, then development, then by name.
create function ops.project_branches(p_project_id uuid)
returns table (
    id                 uuid,
    project_id         uuid,
    name               text,
    stage              text,
    is_production      boolean,
    created_at         timestamptz,
    updated_at         timestamptz,
    last_build_id      uuid,
    last_build_status  text,
    last_build_at      timestamptz
)
language sql
stable
as $$
    select b.id, b.project_id, b.name, b.stage, b.is_production, b.created_at, b.updated_at,
           lb.id, lb.status, lb.created_at
      from ops.branches b
      left join lateral (
            select bu.id, bu.status, bu.created_at
              from ops.builds bu
             where bu.branch_id = b.id
             order by bu.created_at desc   -- matches the (…, created_at desc) index: one row read
             limit 1
           ) lb on true
     where b.project_id = p_project_id
       and b.archived_at is null
     order by case b.stage when 'production' then 0 when 'staging' then 1 else 2 end, b.name
$$;

create function ops.create_project(
    p_org_id uuid,
    p_name text,
    p_slug text,
    p_repo_url text,
    p_runtime_version text default '19.0')
returns ops.projects
language sql
volatile
as $$
    -- a null slug is derived from the name; the RLS insert policy decides who may do this
    insert into ops.projects (org_id, name, slug, repo_url, runtime_version)
    values (p_org_id, p_name, coalesce(p_slug, ops.slugify(p_name)), p_repo_url, coalesce(p_runtime_version, '19.0'))
    returning *
$$;

-- Creating a production branch succeeds only if the project has none
-- (unique index branches_one_production_idx).
create function ops.create_branch(
    p_project_id uuid,
    p_name text,
    p_stage text default 'development')
returns ops.branches
language plpgsql
volatile
as $$
declare
    v_stage   text := coalesce(p_stage, 'development');
    v_role    text;
    v_needed  text;
    v_row     ops.branches;
begin
    if v_stage not in ('development', 'staging', 'production') then
        raise exception 'invalid stage "%": expected development, staging or production', v_stage
            using errcode = '22023';
    end if;

    if pg_catalog.row_security_active('ops.branches') then
        v_role := ops.project_role(p_project_id);
        if v_role is null then
            raise exception 'project % not found', p_project_id using errcode = 'P0002';
        end if;
        v_needed := case when v_stage = 'production' then 'admin' else 'developer' end;
        if ops.role_rank(v_role) < ops.role_rank(v_needed) then
            raise exception 'creating a % branch requires the % role (you are %)', v_stage, v_needed, v_role
                using errcode = '42501';
        end if;
    end if;

    insert into ops.branches (project_id, name, stage, is_production)
    values (p_project_id, p_name, v_stage, v_stage = 'production')
    returning * into v_row;
    return v_row;
end
$$;

-- Moves a branch to another stage. Promotion to production demotes the
-- current production branch to staging in the same transaction. All the
-- project's branches are locked first so concurrent promotions serialize.
create function ops.set_branch_stage(p_branch_id uuid, p_stage text)
returns ops.branches
language plpgsql
volatile
as $$
declare
    v_row      ops.branches;
    v_role     text;
    v_needed   text;
    v_project  uuid;
begin
    if p_stage is null or p_stage not in ('development', 'staging', 'production') then
        raise exception 'invalid stage "%": expected development, staging or production', p_stage
            using errcode = '22023';
    end if;

    select b.project_id into v_project from ops.branches b where b.id = p_branch_id;
    if not found then
        raise exception 'branch % not found', p_branch_id using errcode = 'P0002';
    end if;

    -- Serialize stage changes per project. FOR NO KEY UPDATE conflicts with
    -- itself (so two promotions queue up) but not with the KEY SHARE locks
    -- that concurrent build inserts take through their foreign key.
    perform 1
       from ops.branches b
      where b.project_id = v_project
      order by b.id
        for no key update of b;

    -- re-read after the lock: another promotion may have just committed
    select * into v_row from ops.branches b where b.id = p_branch_id;

    if v_row.archived_at is not null then
        raise exception 'branch % is archived', p_branch_id using errcode = '55000';
    end if;
    if v_row.stage = p_stage then
        return v_row;
    end if;

    if pg_catalog.row_security_active('ops.branches') then
        v_role := ops.project_role(v_project);
        v_needed := case when 'production' in (p_stage, v_row.stage) then 'admin' else 'developer' end;
        if ops.role_rank(v_role) < ops.role_rank(v_needed) then
            raise exception 'moving branch "%" from % to % requires the % role (you are %)',
                v_row.name, v_row.stage, p_stage, v_needed, coalesce(v_role, 'none')
                using errcode = '42501';
        end if;
    end if;

    if p_stage = 'production' then
        update ops.branches b
           set stage = 'staging', is_production = false
         where b.project_id = v_project
           and b.stage = 'production'
           and b.archived_at is null
           and b.id <> p_branch_id;
    end if;

    update ops.branches b
       set stage = p_stage, is_production = (p_stage = 'production')
     where b.id = p_branch_id
    returning * into v_row;
    if not found then
        raise exception 'not allowed to change the stage of branch %', p_branch_id using errcode = '42501';
    end if;
    return v_row;
end
$$;

-- Queues a build: one INSERT; the builds_enqueue trigger adds the queue row.
create function ops.trigger_build(
    p_project_id uuid,
    p_branch_id uuid,
    p_trigger text default 'manual',
    p_commit_sha text default null)
returns ops.builds
language plpgsql
volatile
as $$
declare
    v_branch  ops.branches;
    v_row     ops.builds;
begin
    if coalesce(p_trigger, 'manual') not in ('manual', 'push', 'api', 'schedule', 'rebuild') then
        raise exception 'invalid trigger "%"', p_trigger using errcode = '22023';
    end if;
    if p_commit_sha is not null and pg_catalog.lower(pg_catalog.btrim(p_commit_sha)) !~ '^[0-9a-f]{4,64}$' then
        raise exception 'invalid commit_sha "%": expected 4-64 hex digits', p_commit_sha using errcode = '22023';
    end if;

    select * into v_branch
      from ops.branches b
     where b.id = p_branch_id
       and b.project_id = p_project_id;
    if not found then
        raise exception 'branch % not found in project %', p_branch_id, p_project_id using errcode = 'P0002';
    end if;
    if v_branch.archived_at is not null then
        raise exception 'branch % is archived', p_branch_id using errcode = '55000';
    end if;

    if pg_catalog.row_security_active('ops.builds') and not ops.can_build(p_project_id, p_branch_id) then
        raise exception 'not allowed to build % branch "%" (needs developer, or tester on non-production branches)',
            v_branch.stage, v_branch.name
            using errcode = '42501';
    end if;

    insert into ops.builds (project_id, branch_id, trigger, commit_sha, triggered_by)
    values (p_project_id, p_branch_id, coalesce(p_trigger, 'manual'),
            pg_catalog.lower(pg_catalog.btrim(p_commit_sha)), ops.current_user_id())
    returning * into v_row;
    return v_row;
end
$$;

-- queued -> cancelled at once (trigger removes the queue row);
-- running -> cancel_requested_at is set, the runner confirms later;
-- terminal -> returned unchanged.
create function ops.cancel_build(p_build_id uuid)
returns ops.builds
language plpgsql
volatile
as $$
declare
    v_row  ops.builds;
begin
    -- Two rounds cover a runner claiming the build between our read and update.
    for i in 1 .. 3 loop
        select * into v_row from ops.builds b where b.id = p_build_id;
        if not found then
            raise exception 'build % not found', p_build_id using errcode = 'P0002';
        end if;

        if v_row.status not in ('queued', 'running') then
            return v_row;
        end if;

        if pg_catalog.row_security_active('ops.builds') and not ops.can_build(v_row.project_id, v_row.branch_id) then
            raise exception 'not allowed to cancel build %', p_build_id using errcode = '42501';
        end if;

        if v_row.status = 'queued' then
            update ops.builds b
               set status = 'cancelled',
                   cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now()),
                   finished_at = pg_catalog.now()
             where b.id = p_build_id
               and b.status = 'queued'
            returning * into v_row;
        else
            update ops.builds b
               set cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now())
             where b.id = p_build_id
               and b.status = 'running'
            returning * into v_row;
        end if;

        if found then
            return v_row;
        end if;
        -- status moved under us (or RLS filtered the update); look again
    end loop;

    raise exception 'could not cancel build % (status keeps changing or not allowed)', p_build_id
        using errcode = '42501';
end
$$;

-- Newest first; keyset pagination with p_before (created_at of the last row
-- seen). The limit is clamped to 1..500.
create function ops.list_builds(
    p_project_id uuid,
    p_branch_id uuid default null,
    p_status text default null,
    p_before timestamptz default null,
    p_limit int default 50)
returns setof ops.builds
language sql
stable
as $$
    select b.*
      from ops.builds b
     where b.project_id = p_project_id
       and (p_branch_id is null or b.branch_id = p_branch_id)
       and (p_status is null or b.status = p_status)
       and b.created_at < coalesce(p_before, 'infinity')   -- index condition even when null
     order by b.created_at desc, b.id desc
     limit greatest(1, least(coalesce(p_limit, 50), 500))
$$;

-- Advisories, all visible projects when p_project_id is null, any status
-- when p_status is null. Most severe first, then most recently seen.
create function ops.list_advisories(
    p_project_id uuid default null,
    p_status text default 'open')
returns setof ops.advisories
language sql
stable
as $$
    select a.*
      from ops.advisories a
     where (p_project_id is null or a.project_id = p_project_id)
       and (p_status is null or a.status = p_status)
     order by case a.severity when 'critical' then 0 when 'warning' then 1 else 2 end,
              a.last_seen_at desc,
              a.id
$$;

create function ops.resolve_advisory(p_advisory_id uuid)
returns ops.advisories
language plpgsql
volatile
as $$
declare
    v_row  ops.advisories;
begin
    select * into v_row from ops.advisories a where a.id = p_advisory_id;
    if not found then
        raise exception 'advisory % not found', p_advisory_id using errcode = 'P0002';
    end if;
    if v_row.status = 'resolved' then
        return v_row;
    end if;

    update ops.advisories a
       set status = 'resolved', resolved_at = pg_catalog.now()
     where a.id = p_advisory_id
       and a.status <> 'resolved'
    returning * into v_row;
    if not found then
        raise exception 'not allowed to resolve advisory % (needs developer)', p_advisory_id using errcode = '42501';
    end if;
    return v_row;
end
$$;

-- Suppress until p_until (null = until manually reopened/resolved).
create function ops.suppress_advisory(p_advisory_id uuid, p_until timestamptz default null, p_reason text default null)
returns ops.advisories
language plpgsql
volatile
as $$
declare
    v_row  ops.advisories;
begin
    select * into v_row from ops.advisories a where a.id = p_advisory_id;
    if not found then
        raise exception 'advisory % not found', p_advisory_id using errcode = 'P0002';
    end if;
    if v_row.status = 'resolved' then
        raise exception 'advisory % is resolved', p_advisory_id using errcode = '55000';
    end if;

    update ops.advisories a
       set status = 'suppressed', suppressed_until = p_until, suppress_reason = p_reason
     where a.id = p_advisory_id
       and a.status <> 'resolved'
    returning * into v_row;
    if not found then
        raise exception 'not allowed to suppress advisory % (needs developer)', p_advisory_id using errcode = '42501';
    end if;
    return v_row;
end
$$;

-- Creates an org and makes the acting user its owner. SECURITY DEFINER
-- because the app may not insert orgs, and org_members' insert policy needs
-- an existing owner (chicken and egg).
create function ops.create_org(p_name text, p_slug text default null)
returns registry.orgs
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user  uuid := ops.current_user_id();
    v_org   registry.orgs;
begin
    if v_user is null
       or not exists (select 1 from registry.users u where u.id = v_user and u.is_active) then
        raise exception 'sign in required to create an org' using errcode = '42501';
    end if;

    insert into registry.orgs (name, slug) values (p_name, p_slug)
    returning * into v_org;
    insert into registry.org_members (org_id, user_id, role) values (v_org.id, v_user, 'owner');
    return v_org;
end
$$;

revoke execute on function
    ops.list_projects(),
    ops.project_branches(uuid),
    ops.create_project(uuid, text, text, text, text),
    ops.create_branch(uuid, text, text),
    ops.set_branch_stage(uuid, text),
    ops.trigger_build(uuid, uuid, text, text),
    ops.cancel_build(uuid),
    ops.list_builds(uuid, uuid, text, timestamptz, int),
    ops.list_advisories(uuid, text),
    ops.resolve_advisory(uuid),
    ops.suppress_advisory(uuid, timestamptz, text),
    ops.create_org(text, text)
from public;

grant execute on function
    ops.list_projects(),
    ops.project_branches(uuid),
    ops.create_project(uuid, text, text, text, text),
    ops.create_branch(uuid, text, text),
    ops.set_branch_stage(uuid, text),
    ops.trigger_build(uuid, uuid, text, text),
    ops.cancel_build(uuid),
    ops.list_builds(uuid, uuid, text, timestamptz, int),
    ops.list_advisories(uuid, text),
    ops.resolve_advisory(uuid),
    ops.suppress_advisory(uuid, timestamptz, text),
    ops.create_org(text, text)
to ops_app;

-- ===========================================================================
-- Internal (SECURITY DEFINER, granted to ops_service only)
-- ===========================================================================

-- Stores a batch of samples for one project. p_samples is a JSON array of
-- {metric, value, ts?, branch?, labels?}; ts defaults to p_ts, branch (name)
-- to the production branch. All-or-nothing: any bad sample raises 22023 and
-- nothing is stored. Returns rows actually inserted (duplicates not counted).
create function ops.ingest_metrics(p_project_id uuid, p_ts timestamptz, p_samples jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_prod      uuid;
    v_ord       bigint;
    v_problem   text;
    v_days      date[];
    v_day       date;
    v_inserted  int;
begin
    if p_samples is null or pg_catalog.jsonb_typeof(p_samples) <> 'array' then
        raise exception 'samples must be a JSON array' using errcode = '22023';
    end if;
    if pg_catalog.jsonb_array_length(p_samples) = 0 then
        return 0;
    end if;
    if pg_catalog.jsonb_array_length(p_samples) > 10000 then
        raise exception 'samples: at most 10000 per call (got %)', pg_catalog.jsonb_array_length(p_samples)
            using errcode = '22023';
    end if;
    if exists (select 1 from pg_catalog.jsonb_array_elements(p_samples) e where pg_catalog.jsonb_typeof(e) <> 'object') then
        raise exception 'samples: every element must be a JSON object' using errcode = '22023';
    end if;

    if not exists (select 1 from ops.projects p where p.id = p_project_id and p.archived_at is null) then
        raise exception 'project_id: unknown project %', p_project_id using errcode = '22023';
    end if;

    select b.id into v_prod
      from ops.branches b
     where b.project_id = p_project_id
       and b.stage = 'production'
       and b.archived_at is null;

    -- 1. Text-level validation; reports the first bad sample (1-based).
    select s.ord, s.problem into v_ord, v_problem
      from (
            select r.ord,
                   case
                       when r.metric is null
                           then 'metric is required'
                       when r.metric !~ '^[a-z][a-z0-9_.]{0,63}$'
                           then pg_catalog.format('metric %L is invalid (expected ^[a-z][a-z0-9_.]{0,63}$)', r.metric)
                       when r.value is null
                           then 'value is required'
                       when r.value !~ '^\s*-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*$'
                           then pg_catalog.format('value %L is not a finite number', r.value)
                       when r.ts is null and p_ts is null
                           then 'ts is required (no batch ts given)'
                       when r.labels is not null and pg_catalog.jsonb_typeof(r.labels) not in ('object', 'null')
                           then 'labels must be a JSON object'
                       when r.branch is null and v_prod is null
                           then 'branch: project has no production branch; name the branch'
                       when r.branch is not null
                            and not exists (select 1 from ops.branches b
                                             where b.project_id = p_project_id and b.name = r.branch)
                           then pg_catalog.format('branch %L: unknown branch', r.branch)
                   end as problem
              from rows from (pg_catalog.jsonb_to_recordset(p_samples)
                              as (metric text, value text, ts text, branch text, labels jsonb))
                   with ordinality as r(metric, value, ts, branch, labels, ord)
           ) s
     where s.problem is not null
     order by s.ord
     limit 1;
    if v_problem is not null then
        raise exception 'samples[%]: %', v_ord, v_problem using errcode = '22023';
    end if;

    -- 2. Typed pass: timestamps must parse and values must fit a double.
    --    Collect the UTC days the batch touches.
    begin
        select pg_catalog.array_agg(distinct (coalesce(r.ts::timestamptz, p_ts) at time zone 'UTC')::date)
          into v_days
          from rows from (pg_catalog.jsonb_to_recordset(p_samples)
                          as (value text, ts text))
               as r(value, ts)
         where r.value::double precision is not null;
    exception
        when numeric_value_out_of_range then
            raise exception 'samples: a value is out of range for double precision' using errcode = '22023';
        when invalid_datetime_format or datetime_field_overflow or invalid_text_representation
             or invalid_parameter_value then
            raise exception 'samples: invalid ts (%)', pg_catalog.left(sqlerrm, 200) using errcode = '22023';
    end;

    if exists (select 1 from pg_catalog.unnest(v_days) d
                where d is null or d < date '2000-01-01'
                   or d > (pg_catalog.now() at time zone 'UTC')::date + 1) then
        raise exception 'ts: samples must be between 2000-01-01 and tomorrow (UTC)' using errcode = '22023';
    end if;
    if pg_catalog.cardinality(v_days) > 32 then
        raise exception 'ts: a batch may span at most 32 days (got %)', pg_catalog.cardinality(v_days)
            using errcode = '22023';
    end if;

    -- 3. Partitions first (no default partition exists).
    foreach v_day in array v_days loop
        perform ops.ensure_metric_partitions(v_day, 1);
    end loop;

    -- 4. One set-based insert; duplicates (same project, metric, ts, branch) are skipped.
    insert into ops.metric_samples (project_id, branch_id, metric, ts, value, labels)
    select p_project_id,
           coalesce(b.id, v_prod),
           r.metric,
           coalesce(r.ts, p_ts),
           r.value,
           case when pg_catalog.jsonb_typeof(r.labels) = 'object' then r.labels end
      from pg_catalog.jsonb_to_recordset(p_samples)
           as r(metric text, value double precision, ts timestamptz, branch text, labels jsonb)
      left join ops.branches b
             on b.project_id = p_project_id
            and b.name = r.branch
    on conflict do nothing;
    get diagnostics v_inserted = row_count;

    return v_inserted;
end
$$;

-- Evaluates advisory rules over all projects (or one) in one pass:
-- upserts firing advisories by (project_id, fingerprint), reopens suppressed
-- ones whose suppression expired, auto-resolves those no longer firing.
-- Returns the number of advisories created.
create function ops.advisory_scan(p_project_id uuid default null)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_created  int;
begin
    -- one scan at a time (e.g. several scheduler nodes)
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('ops.advisory_scan'));

    with
    projects as (
        select p.id
          from ops.projects p
         where p.archived_at is null
           and (p_project_id is null or p.id = p_project_id)
    ),
    prod as (
        select b.project_id, b.id as branch_id, b.name
          from ops.branches b
          join projects p on p.id = b.project_id
         where b.stage = 'production'
           and b.archived_at is null
    ),
    firing as (
        -- no_production_branch
        select p.id as project_id, null::uuid as branch_id,
               'no_production_branch'::text as rule,
               'no_production_branch'::text as fingerprint,
               'warning'::text as severity,
               'No production branch'::text as title,
               'This project has no production branch, so nothing is deployed to production and metrics have no default branch.'::text as detail,
               'Create a production branch or promote an existing branch to production.'::text as remediation,
               null::double precision as measured_value
          from projects p
         where not exists (select 1 from prod where prod.project_id = p.id)

        union all
        -- production_build_failed: the latest finished production build failed or timed out
        select prod.project_id, prod.branch_id,
               'production_build_failed',
               'production_build_failed:' || prod.branch_id::text,
               'critical',
               'Latest production build ' || lb.status,
               pg_catalog.format('Build %s of production branch %s %s at %s.',
                                 lb.id, prod.name, lb.status,
                                 coalesce(lb.finished_at, lb.created_at)),
               'Inspect the build log, fix the cause and trigger a new build.',
               null::double precision
          from prod
          cross join lateral (
                select bu.id, bu.status, bu.finished_at, bu.created_at
                  from ops.builds bu
                 where bu.branch_id = prod.branch_id
                   and bu.status in ('success', 'warning', 'failed', 'timed_out')
                 order by bu.created_at desc
                 limit 1
               ) lb
         where lb.status in ('failed', 'timed_out')

        union all
        -- repeated_failures: >= 3 of the last 5 finished builds of a branch failed
        select b.project_id, b.id,
               'repeated_failures',
               'repeated_failures:' || b.id::text,
               'warning',
               'Repeated build failures on ' || b.name,
               pg_catalog.format('%s of the last %s builds of branch %s failed.', f.failed, f.total, b.name),
               'Look at the failing builds for a common cause (dependencies, tests, configuration).',
               f.failed::double precision
          from ops.branches b
          join projects p on p.id = b.project_id
          cross join lateral (
                select count(*) filter (where x.status in ('failed', 'timed_out')) as failed,
                       count(*) as total
                  from (select bu.status
                          from ops.builds bu
                         where bu.branch_id = b.id
                           and bu.status in ('success', 'warning', 'failed', 'timed_out')
                         order by bu.created_at desc
                         limit 5) x
               ) f
         where b.archived_at is null
           and f.failed >= 3

        union all
        -- metrics_missing: production sent samples in the last 24 h, none in the last 15 min
        select prod.project_id, prod.branch_id,
               'metrics_missing',
               'metrics_missing:' || prod.branch_id::text,
               'warning',
               'Metrics stopped arriving from ' || prod.name,
               pg_catalog.format('Last sample at %s (%s minutes ago).', m.last_ts,
                                 pg_catalog.round((extract(epoch from pg_catalog.now() - m.last_ts) / 60)::numeric)),
               'Check that the production instance and its metrics agent are running and can reach the ingest endpoint.',
               (extract(epoch from pg_catalog.now() - m.last_ts) / 60)::double precision
          from prod
          cross join lateral (
                select max(s.ts) as last_ts
                  from ops.metric_samples s
                 where s.project_id = prod.project_id
                   and s.branch_id = prod.branch_id
                   and s.ts >= pg_catalog.now() - interval '24 hours'
               ) m
         where m.last_ts is not null
           and m.last_ts < pg_catalog.now() - interval '15 minutes'

        union all
        -- build_queue_stuck: a build has been queued for more than 30 minutes
        select q.project_id, null::uuid,
               'build_queue_stuck',
               'build_queue_stuck',
               'warning',
               'Builds stuck in the queue',
               pg_catalog.format('%s build(s) queued for more than 30 minutes; oldest since %s.', q.n, q.oldest),
               'Check that a runner with matching labels is online and not disabled.',
               (extract(epoch from pg_catalog.now() - q.oldest) / 60)::double precision
          from (select bu.project_id, count(*) as n, min(bu.queued_at) as oldest
                  from ops.builds bu
                  join projects p on p.id = bu.project_id
                 where bu.status = 'queued'
                   and bu.queued_at < pg_catalog.now() - interval '30 minutes'
                 group by bu.project_id) q
    ),
    -- open (or expired-suppression) advisories of these rules that stopped firing
    auto_resolved as (
        update ops.advisories a
           set status = 'resolved', resolved_at = pg_catalog.now()
         where a.rule in ('no_production_branch', 'production_build_failed', 'repeated_failures',
                          'metrics_missing', 'build_queue_stuck')
           and (p_project_id is null or a.project_id = p_project_id)
           and (a.status = 'open'
                or (a.status = 'suppressed' and a.suppressed_until is not null and a.suppressed_until <= pg_catalog.now()))
           and not exists (select 1 from firing f
                            where f.project_id = a.project_id and f.fingerprint = a.fingerprint)
        returning a.id
    ),
    refreshed as (
        update ops.advisories a
           set last_seen_at = pg_catalog.now(),
               severity = f.severity,
               title = f.title,
               detail = f.detail,
               remediation = f.remediation,
               measured_value = f.measured_value,
               status = case when a.status = 'suppressed' and a.suppressed_until <= pg_catalog.now()
                             then 'open' else a.status end,
               suppressed_until = case when a.status = 'suppressed' and a.suppressed_until <= pg_catalog.now()
                                       then null else a.suppressed_until end
          from firing f
         where a.project_id = f.project_id
           and a.fingerprint = f.fingerprint
           and a.status <> 'resolved'
        returning a.id
    ),
    created as (
        insert into ops.advisories (project_id, branch_id, rule, fingerprint, severity, title, detail,
                                    remediation, measured_value)
        select f.project_id, f.branch_id, f.rule, f.fingerprint, f.severity, f.title, f.detail,
               f.remediation, f.measured_value
          from firing f
         where not exists (select 1 from ops.advisories a
                            where a.project_id = f.project_id
                              and a.fingerprint = f.fingerprint
                              and a.status <> 'resolved')
        on conflict (project_id, fingerprint) where status <> 'resolved' do nothing
        returning id
    )
    select count(*)::int into v_created
      from created;

    return v_created;
end
$$;

-- Resolves an ingest token (by its hash) to its project; null when unknown,
-- revoked or the project is archived. Records last use (at most once a minute).
create function ops.authenticate_ingest_token(p_token_hash bytea)
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

-- Resolves a personal access token (by its hash) to its user and scope;
-- no row when unknown, revoked, expired or the user is inactive.
create function ops.authenticate_api_token(p_token_hash bytea)
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

revoke execute on function
    ops.ingest_metrics(uuid, timestamptz, jsonb),
    ops.advisory_scan(uuid),
    ops.authenticate_ingest_token(bytea),
    ops.authenticate_api_token(bytea)
from public;

grant execute on function
    ops.ingest_metrics(uuid, timestamptz, jsonb),
    ops.advisory_scan(uuid),
    ops.ensure_metric_partitions(date, int),
    ops.drop_metric_partitions_before(date),
    ops.authenticate_ingest_token(bytea),
    ops.authenticate_api_token(bytea)
to ops_service;
