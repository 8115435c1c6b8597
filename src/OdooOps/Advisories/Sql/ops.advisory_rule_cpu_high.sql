-- cpu_high (critical): cpu_pct of a branch averaged above cpu_high_pct (85) over metric_window_minutes (15).
create or replace function ops.advisory_rule_cpu_high(p_project_ids uuid[], p_inputs jsonb)
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
revoke all on function ops.advisory_rule_cpu_high(uuid[], jsonb) from public, ops_app, ops_service;
