-- repeated_failures (warning): at least repeated_failures (3) of the last repeated_failures_of (5) finished
-- builds of a branch failed or timed out.
create or replace function ops.advisory_rule_repeated_failures(p_project_ids uuid[], p_inputs jsonb)
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
revoke all on function ops.advisory_rule_repeated_failures(uuid[], jsonb) from public, ops_app, ops_service;
