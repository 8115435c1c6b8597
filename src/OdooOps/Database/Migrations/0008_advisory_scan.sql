-- 0008: the advisory scan of POST /functions/v1/ops-advisory-scan (src/OdooOps/Advisories/).
--
-- Each rule is one SQL function ops.advisory_rule_<rule>(project ids, inputs) returning the findings that fire, so
-- a rule reads as one query and can fail alone: ops.run_advisory_scan runs every rule in its own subtransaction
-- and a rule that raises is reported as unavailable, its open advisories left exactly as they were (a rule that
-- could not look is never taken for a rule that found nothing). Rules are set-based over all projects in scope.
-- Thresholds arrive in the inputs object (keys = configuration keys without OPS_ADVISORY_, lower case); the
-- defaults below apply when a key is absent, so these are the only copy of them.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

-- A project's memory budget for the memory_high rule; null = judge by mem_pct only. Project admins may set it.
alter table ops.projects add column memory_limit_mb integer check (memory_limit_mb > 0);
grant update (memory_limit_mb) on ops.projects to ops_app;

-- ---------------------------------------------------------------------------
-- The built-in system project "OdooOps" (org 'odooops-system'): OdooOps' own health (error rate, p95, pool use) is
-- recorded against it. Fixed ids, so nothing has to guess which org is the system's. The scan creates both rows the
-- first time it needs them rather than this migration, because the seed's step 5 lists every project as the owner
-- right after migrating and must find only its own. System admins become its members on every scan.
-- ---------------------------------------------------------------------------
create function ops.system_org_id() returns uuid language sql immutable
as $$ select '00000000-0000-4000-8000-0000000005e0'::uuid $$;
create function ops.system_project_id() returns uuid language sql immutable
as $$ select '00000000-0000-4000-8000-0000000005e1'::uuid $$;

-- Idempotent. Should an org already use the slug, the slug trigger picks the next free one (odooops-system-2).
create function ops.ensure_system_project() returns void language sql volatile set search_path = pg_catalog, pg_temp
as $$
    insert into registry.orgs (id, name, slug)
    select ops.system_org_id(), 'OdooOps system',
           case when exists (select 1 from registry.orgs o where o.slug = 'odooops-system') then null else 'odooops-system' end
    on conflict (id) do nothing;
    insert into ops.projects (id, org_id, name, slug, repo_url)
    values (ops.system_project_id(), ops.system_org_id(), 'OdooOps', 'odooops', 'builtin:odooops')
    on conflict (id) do nothing;
$$;
revoke execute on function ops.system_org_id(), ops.system_project_id(), ops.ensure_system_project() from public;

-- 0004's project-level rules used the bare rule name as fingerprint; rule + subject (the project) from now on.
update ops.advisories a
   set fingerprint = a.rule || ':' || a.project_id
 where a.rule in ('no_production_branch', 'build_queue_stuck') and a.fingerprint = a.rule and a.status <> 'resolved';

-- ---------------------------------------------------------------------------
-- Rules
-- ---------------------------------------------------------------------------
create type ops.advisory_finding as (
    project_id uuid, branch_id uuid, rule text, fingerprint text, severity text,
    title text, detail text, remediation text, measured_value double precision);

-- A numeric threshold from the inputs, or its default.
create function ops.advisory_threshold(p_inputs jsonb, p_key text, p_default double precision)
returns double precision language sql immutable set search_path = pg_catalog, pg_temp
as $$ select coalesce((p_inputs ->> p_key)::double precision, p_default) $$;

-- cpu_high (critical): cpu_pct of a branch averaged above cpu_high_pct (85) over metric_window_minutes (15).
create function ops.advisory_rule_cpu_high(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select s.project_id, s.branch_id, 'cpu_high', 'cpu_high:' || s.branch_id, 'critical', 'CPU high on ' || b.name,
           format('CPU averaged %s%% over the last %s minutes (%s samples; threshold %s%%).', round(avg(s.value)::numeric, 1),
                  ops.advisory_threshold(p_inputs, 'metric_window_minutes', 15), count(*), ops.advisory_threshold(p_inputs, 'cpu_high_pct', 85)),
           'Find what keeps the workers busy (slow requests, cron jobs, imports); add workers or CPU, or move heavy jobs off peak hours.',
           avg(s.value)
      from ops.metric_samples s
      join ops.branches b on b.id = s.branch_id and b.archived_at is null
     where s.project_id = any (p_project_ids)
       and s.metric = 'cpu_pct'
       and s.ts > now() - make_interval(mins => ops.advisory_threshold(p_inputs, 'metric_window_minutes', 15)::int)
     group by s.project_id, s.branch_id, b.name
    having avg(s.value) > ops.advisory_threshold(p_inputs, 'cpu_high_pct', 85)
$$;

-- memory_high (warning): mem_pct averaged above memory_high_pct (90) over the window, or mem_mb above the
-- project's memory_limit_mb.
create function ops.advisory_rule_memory_high(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    with w as (select ops.advisory_threshold(p_inputs, 'metric_window_minutes', 15) as minutes,
                      ops.advisory_threshold(p_inputs, 'memory_high_pct', 90) as pct_limit),
    memory as (
        select s.project_id, s.branch_id,
               avg(s.value) filter (where s.metric = 'mem_pct') as pct,
               avg(s.value) filter (where s.metric = 'mem_mb') as mb
          from ops.metric_samples s
         where s.project_id = any (p_project_ids)
           and s.metric in ('mem_pct', 'mem_mb')
           and s.ts > now() - make_interval(mins => ops.advisory_threshold(p_inputs, 'metric_window_minutes', 15)::int)
         group by s.project_id, s.branch_id),
    judged as (
        select m.*, b.name as branch, p.memory_limit_mb, w.minutes, w.pct_limit,
               coalesce(m.pct > w.pct_limit, false) as pct_high, coalesce(m.mb > p.memory_limit_mb, false) as mb_high
          from memory m cross join w
          join ops.projects p on p.id = m.project_id
          join ops.branches b on b.id = m.branch_id and b.archived_at is null)
    select project_id, branch_id, 'memory_high', 'memory_high:' || branch_id, 'warning', 'Memory high on ' || branch,
           concat_ws(' ',
               case when pct_high then format('Memory averaged %s%% over the last %s minutes (threshold %s%%).', round(pct::numeric, 1), minutes, pct_limit) end,
               case when mb_high then format('Memory averaged %s MB over the last %s minutes, above the project''s limit of %s MB.', round(mb::numeric), minutes, memory_limit_mb) end),
           'Look for memory-hungry workers (large reports, imports, leaks); lower limit_memory_soft, reduce workers or add memory.',
           case when pct_high then pct else mb end
      from judged
     where pct_high or mb_high
$$;

-- metrics_missing (warning): a production branch sent samples in the last metrics_lookback_hours (24) but none
-- in the last metrics_missing_minutes (15). Two steps, so that a healthy branch costs one index probe: the newest
-- sample in the primary key's own order (project, metric, ts) is found at the first entry of a backward scan; only
-- the few silent branches then have their last 24 hours searched for the latest sample.
create function ops.advisory_rule_metrics_missing(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    with silent as (
        select b.project_id, b.id, b.name
          from ops.branches b
         where b.project_id = any (p_project_ids) and b.stage = 'production' and b.archived_at is null
           and (select s.ts from ops.metric_samples s
                 where s.project_id = b.project_id and s.branch_id = b.id
                   and s.ts > now() - make_interval(mins => ops.advisory_threshold(p_inputs, 'metrics_missing_minutes', 15)::int)
                 order by s.metric desc, s.ts desc limit 1) is null)
    select b.project_id, b.id, 'metrics_missing', 'metrics_missing:' || b.id, 'warning', 'Metrics stopped arriving from ' || b.name,
           format('The last sample arrived %s minutes ago, at %s (threshold %s minutes).', round(extract(epoch from now() - m.last_ts) / 60),
                  to_char(m.last_ts at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), ops.advisory_threshold(p_inputs, 'metrics_missing_minutes', 15)),
           'Check that the production instance and its metrics agent are running and can reach the ingest endpoint.',
           extract(epoch from now() - m.last_ts)::double precision / 60
      from silent b
     cross join lateral (
           select max(s.ts) as last_ts
             from ops.metric_samples s
            where s.project_id = b.project_id and s.branch_id = b.id
              and s.ts > now() - make_interval(hours => ops.advisory_threshold(p_inputs, 'metrics_lookback_hours', 24)::int)) m
     where m.last_ts is not null
$$;

-- production_build_failed (critical): the latest finished build of the production branch failed or timed out.
-- Measured: production builds in a row that have not succeeded.
create function ops.advisory_rule_production_build_failed(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select b.project_id, b.id, 'production_build_failed', 'production_build_failed:' || b.id, 'critical',
           'Latest production build ' || replace(lb.status, '_', ' '),
           format('Build %s of production branch %s %s at %s; %s production build(s) in a row did not succeed.', lb.id, b.name,
                  replace(lb.status, '_', ' '), to_char(lb.at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), streak.n),
           'Inspect the build log, fix the cause and trigger a new build.',
           streak.n
      from ops.branches b
     cross join lateral (
           select bu.id, bu.status, coalesce(bu.finished_at, bu.created_at) as at
             from ops.builds bu
            where bu.branch_id = b.id and bu.status in ('success', 'warning', 'failed', 'timed_out')
            order by bu.created_at desc limit 1) lb
     cross join lateral (
           select count(*)::double precision as n
             from ops.builds bu
            where bu.branch_id = b.id and bu.status in ('failed', 'timed_out')
              and bu.created_at > coalesce((select max(ok.created_at) from ops.builds ok
                                             where ok.branch_id = b.id and ok.status in ('success', 'warning')), '-infinity')) streak
     where b.project_id = any (p_project_ids) and b.stage = 'production' and b.archived_at is null
       and lb.status in ('failed', 'timed_out')
$$;

-- repeated_failures (warning): at least repeated_failures (3) of the last repeated_failures_of (5) finished
-- builds of a branch failed or timed out.
create function ops.advisory_rule_repeated_failures(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select b.project_id, b.id, 'repeated_failures', 'repeated_failures:' || b.id, 'warning', 'Repeated build failures on ' || b.name,
           format('%s of the last %s builds of branch %s failed (threshold %s).', f.failed, f.total, b.name,
                  ops.advisory_threshold(p_inputs, 'repeated_failures', 3)),
           'Look at the failing builds for a common cause (dependencies, tests, configuration).',
           f.failed
      from ops.branches b
     cross join lateral (
           select count(*) filter (where x.status in ('failed', 'timed_out'))::double precision as failed, count(*) as total
             from (select bu.status from ops.builds bu
                    where bu.branch_id = b.id and bu.status in ('success', 'warning', 'failed', 'timed_out')
                    order by bu.created_at desc
                    limit ops.advisory_threshold(p_inputs, 'repeated_failures_of', 5)::int) x) f
     where b.project_id = any (p_project_ids) and b.archived_at is null
       and f.failed >= ops.advisory_threshold(p_inputs, 'repeated_failures', 3)
$$;

-- build_queue_stuck (warning): a project has a build queued for more than queue_stuck_minutes (30).
create function ops.advisory_rule_build_queue_stuck(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select q.project_id, null::uuid, 'build_queue_stuck', 'build_queue_stuck:' || q.project_id, 'warning', 'Builds stuck in the queue',
           format('%s build(s) queued for more than %s minutes; the oldest has waited %s minutes.', q.n,
                  ops.advisory_threshold(p_inputs, 'queue_stuck_minutes', 30), round(extract(epoch from now() - q.oldest) / 60)),
           'Check that a runner with matching labels is online and not disabled.',
           extract(epoch from now() - q.oldest)::double precision / 60
      from (select bu.project_id, count(*) as n, min(bu.queued_at) as oldest
              from ops.builds bu
             where bu.project_id = any (p_project_ids) and bu.status = 'queued'
               and bu.queued_at < now() - make_interval(mins => ops.advisory_threshold(p_inputs, 'queue_stuck_minutes', 30)::int)
             group by bu.project_id) q
$$;

-- no_production_branch: info while a project has no branches at all (just created), warning once it has some.
create function ops.advisory_rule_no_production_branch(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select p.id, null::uuid, 'no_production_branch', 'no_production_branch:' || p.id,
           case when n.branches = 0 then 'info' else 'warning' end, 'No production branch',
           case when n.branches = 0 then 'This project has no branches yet, so nothing is deployed to production.'
                else format('None of this project''s %s branch(es) is production, so nothing is deployed to production and metrics have no default branch.', n.branches) end,
           'Create a production branch or promote an existing branch to production.',
           n.branches::double precision
      from ops.projects p
     cross join lateral (select count(*) as branches from ops.branches b where b.project_id = p.id and b.archived_at is null) n
     where p.id = any (p_project_ids)
       and not exists (select 1 from ops.branches b where b.project_id = p.id and b.stage = 'production' and b.archived_at is null)
$$;

-- runtime_unsupported (warning): the project's Odoo major is older than the three newest majors of
-- supported_runtimes (default ["17.0", "18.0", "19.0"]: anything below 17 is unsupported).
create function ops.advisory_rule_runtime_unsupported(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    with majors as (
        select distinct substring(v from '^(?:saas-)?([0-9]+)\.')::int as major
          from jsonb_array_elements_text(coalesce(p_inputs -> 'supported_runtimes', '["17.0", "18.0", "19.0"]')) v),
    supported as (
        select min(major) as oldest, max(major) as newest, string_agg(major || '.0', ', ' order by major) as list
          from (select major from majors where major is not null order by major desc limit 3) t)
    select p.id, null::uuid, 'runtime_unsupported', 'runtime_unsupported:' || p.id, 'warning',
           'Odoo ' || p.runtime_version || ' is no longer supported',
           format('This project runs Odoo %s (major %s); supported are the three newest majors: %s.', p.runtime_version, v.major, s.list),
           format('Plan the upgrade to Odoo %s.0: create a staging branch on it, run the upgrade scripts there, then promote it.', s.newest),
           v.major::double precision
      from ops.projects p
     cross join supported s
     cross join lateral (select substring(p.runtime_version from '^(?:saas-)?([0-9]+)\.')::int as major) v
     where p.id = any (p_project_ids) and v.major < s.oldest
$$;

-- The server rules judge OdooOps itself, from the answering process' own metrics (inputs.server, measured by
-- the host over the requests since its last judged window), against the seed's alert thresholds; their findings
-- belong to the system project. error_rate_high (critical): 5xx share above error_rate_pct (1);
-- request_p95_high (warning): p95 above p95_ms (500); db_pool_saturated (warning): the fullest pool above
-- db_pool_pct (80).
create function ops.advisory_rule_error_rate_high(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select id, null::uuid, 'error_rate_high', 'error_rate_high:' || id, 'critical', 'OdooOps answers with server errors',
           format('%s%% of %s requests in the last %s minutes answered with a 5xx (threshold %s%%).', round((x.s ->> 'error_rate_pct')::numeric, 2),
                  x.s ->> 'requests', x.s ->> 'window_minutes', ops.advisory_threshold(p_inputs, 'error_rate_pct', 1)),
           'Read the server log for the failing routes (odooops_http_errors_total on /metrics names them); check the database and the last upgrade.',
           (x.s ->> 'error_rate_pct')::double precision
      from unnest(p_project_ids) id, (select p_inputs -> 'server' as s) x
     where id = ops.system_project_id()
       and (x.s ->> 'error_rate_pct')::double precision > ops.advisory_threshold(p_inputs, 'error_rate_pct', 1)
$$;

create function ops.advisory_rule_request_p95_high(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select id, null::uuid, 'request_p95_high', 'request_p95_high:' || id, 'warning', 'OdooOps answers slowly',
           format('The 95th percentile of %s requests in the last %s minutes took %s ms (threshold %s ms).', x.s ->> 'requests',
                  x.s ->> 'window_minutes', round((x.s ->> 'p95_ms')::numeric), ops.advisory_threshold(p_inputs, 'p95_ms', 500)),
           'Find the slow routes (odooops_http_request_duration_seconds on /metrics); check database load and the pool.',
           (x.s ->> 'p95_ms')::double precision
      from unnest(p_project_ids) id, (select p_inputs -> 'server' as s) x
     where id = ops.system_project_id()
       and (x.s ->> 'p95_ms')::double precision > ops.advisory_threshold(p_inputs, 'p95_ms', 500)
$$;

create function ops.advisory_rule_db_pool_saturated(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select id, null::uuid, 'db_pool_saturated', 'db_pool_saturated:' || id, 'warning', 'OdooOps database pool nearly full',
           format('Pool %s uses %s of %s connections (%s%%; threshold %s%%).', x.s ->> 'pool', x.s ->> 'pool_used', x.s ->> 'pool_max',
                  round((x.s ->> 'pool_usage_pct')::numeric, 1), ops.advisory_threshold(p_inputs, 'db_pool_pct', 80)),
           'Look for long transactions or slow queries holding connections; raise Maximum Pool Size within the server''s max_connections.',
           (x.s ->> 'pool_usage_pct')::double precision
      from unnest(p_project_ids) id, (select p_inputs -> 'server' as s) x
     where id = ops.system_project_id()
       and (x.s ->> 'pool_usage_pct')::double precision > ops.advisory_threshold(p_inputs, 'db_pool_pct', 80)
$$;

revoke execute on function
    ops.advisory_threshold(jsonb, text, double precision),
    ops.advisory_rule_cpu_high(uuid[], jsonb), ops.advisory_rule_memory_high(uuid[], jsonb),
    ops.advisory_rule_metrics_missing(uuid[], jsonb), ops.advisory_rule_production_build_failed(uuid[], jsonb),
    ops.advisory_rule_repeated_failures(uuid[], jsonb), ops.advisory_rule_build_queue_stuck(uuid[], jsonb),
    ops.advisory_rule_no_production_branch(uuid[], jsonb), ops.advisory_rule_runtime_unsupported(uuid[], jsonb),
    ops.advisory_rule_error_rate_high(uuid[], jsonb), ops.advisory_rule_request_p95_high(uuid[], jsonb),
    ops.advisory_rule_db_pool_saturated(uuid[], jsonb)
from public;

-- ---------------------------------------------------------------------------
-- The scan
-- ---------------------------------------------------------------------------

-- Runs every rule over the non-archived projects (or p_project_id alone), then in one statement: refreshes the
-- advisories that still fire (last_seen_at, detail, measured value; a suppression that has expired reopens),
-- creates the new ones, and resolves those of rules that ran and no longer fire. Rules that raised are returned
-- in unavailable (with their errors in unavailable_reasons, for the server log) and their advisories stay as
-- they are. A server rule whose measurement is missing from p_inputs.server (too few requests yet, a single-
-- project scan) is neither run nor reported: its advisories are held too. Suppressed advisories never count as
-- created. One scan at a time.
create function ops.run_advisory_scan(p_project_id uuid, p_inputs jsonb)
returns table (advisories_created int, advisories_resolved int, projects_scanned int, unavailable text[], unavailable_reasons text[])
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_inputs    jsonb := coalesce(p_inputs, '{}');
    v_system    boolean := p_project_id is null or p_project_id = ops.system_project_id();
    v_projects  uuid[];
    v_findings  ops.advisory_finding[] := '{}';
    v_rows      ops.advisory_finding[];
    v_ran       text[] := '{}';
    v_rule      text;
    v_scope     uuid[];
    v_error     text;
begin
    perform pg_advisory_xact_lock(hashtext('ops.advisory_scan'));
    if v_system then
        perform ops.ensure_system_project();
    end if;
    unavailable := '{}';
    unavailable_reasons := '{}';

    v_projects := array(select p.id from ops.projects p
                         where p.archived_at is null and p.id <> ops.system_project_id()
                           and (p_project_id is null or p.id = p_project_id));

    for v_rule, v_scope in
        select r.rule, case when r.measure is null then v_projects else array[ops.system_project_id()] end
          from (values ('no_production_branch', null), ('production_build_failed', null), ('repeated_failures', null),
                       ('build_queue_stuck', null), ('runtime_unsupported', null), ('metrics_missing', null),
                       ('cpu_high', null), ('memory_high', null),
                       ('error_rate_high', 'error_rate_pct'), ('request_p95_high', 'p95_ms'), ('db_pool_saturated', 'pool_usage_pct')
               ) r(rule, measure)
         where r.measure is null or (v_system and v_inputs -> 'server' ->> r.measure is not null)
    loop
        begin
            execute format('select coalesce(array_agg(f), ''{}'') from ops.%I($1, $2) f', 'advisory_rule_' || v_rule)
               into v_rows using v_scope, v_inputs;
            v_findings := v_findings || v_rows;
            v_ran := v_ran || v_rule;
        exception when others then
            get stacked diagnostics v_error = message_text;
            unavailable := unavailable || v_rule;
            unavailable_reasons := unavailable_reasons || (v_rule || ': ' || v_error);
        end;
    end loop;

    with
    firing as (select * from unnest(v_findings)),
    resolved as (
        update ops.advisories a
           set status = 'resolved', resolved_at = now()
         where a.rule = any (v_ran)
           and (a.project_id = any (v_projects) or (v_system and a.project_id = ops.system_project_id()))
           and (a.status = 'open' or (a.status = 'suppressed' and a.suppressed_until <= now()))
           and not exists (select 1 from firing f where f.project_id = a.project_id and f.fingerprint = a.fingerprint)
        returning a.id),
    refreshed as (
        update ops.advisories a
           set last_seen_at = now(), severity = f.severity, title = f.title, detail = f.detail,
               remediation = f.remediation, measured_value = f.measured_value,
               status = case when a.status = 'suppressed' and a.suppressed_until <= now() then 'open' else a.status end,
               suppressed_until = case when a.status = 'suppressed' and a.suppressed_until <= now() then null else a.suppressed_until end
          from firing f
         where a.project_id = f.project_id and a.fingerprint = f.fingerprint and a.status <> 'resolved'
        returning a.id),
    created as (
        insert into ops.advisories (project_id, branch_id, rule, fingerprint, severity, title, detail, remediation, measured_value)
        select f.project_id, f.branch_id, f.rule, f.fingerprint, f.severity, f.title, f.detail, f.remediation, f.measured_value
          from firing f
         where not exists (select 1 from ops.advisories a
                            where a.project_id = f.project_id and a.fingerprint = f.fingerprint and a.status <> 'resolved')
        on conflict (project_id, fingerprint) where status <> 'resolved' do nothing
        returning id)
    select (select count(*) from created), (select count(*) from resolved)
      into advisories_created, advisories_resolved;

    projects_scanned := cardinality(v_projects) + case when v_system then 1 else 0 end;

    -- System admins see the system project through ordinary membership (developer: may resolve and suppress).
    if v_system then
        insert into registry.org_members (org_id, user_id, role)
        select ops.system_org_id(), u.id, 'developer' from registry.users u where u.is_system_admin and u.is_active
        on conflict (org_id, user_id) do nothing;
        delete from registry.org_members m
         where m.org_id = ops.system_org_id()
           and not exists (select 1 from registry.users u where u.id = m.user_id and u.is_system_admin and u.is_active);
    end if;

    return next;
end
$$;
revoke execute on function ops.run_advisory_scan(uuid, jsonb) from public;
grant execute on function ops.run_advisory_scan(uuid, jsonb) to ops_service;

-- 0004's entry point, kept for SQL callers (the scheduler, psql): the same scan with default thresholds and no
-- server measurements (the server rules are held). Returns the advisories created.
create or replace function ops.advisory_scan(p_project_id uuid default null)
returns integer
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    select s.advisories_created from ops.run_advisory_scan(p_project_id, '{}') s
$$;
