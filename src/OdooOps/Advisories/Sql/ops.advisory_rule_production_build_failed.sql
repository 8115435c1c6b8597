-- production_build_failed (critical): the latest finished build of the production branch failed or timed out.
-- Measured: production builds in a row that have not succeeded.
create or replace function ops.advisory_rule_production_build_failed(p_project_ids uuid[], p_inputs jsonb)
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
revoke all on function ops.advisory_rule_production_build_failed(uuid[], jsonb) from public, ops_app, ops_service;
