-- memory_high (warning): mem_pct averaged above memory_high_pct (90) over the window, or mem_mb above the
-- project's memory_limit_mb.
create or replace function ops.advisory_rule_memory_high(p_project_ids uuid[], p_inputs jsonb)
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
revoke all on function ops.advisory_rule_memory_high(uuid[], jsonb) from public, ops_app, ops_service;
