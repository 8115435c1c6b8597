-- metrics_missing (warning): a production branch sent samples in the last metrics_lookback_hours (24) but none
-- in the last metrics_missing_minutes (15), unless its current instance was stopped on purpose (desired 'stopped',
-- or retired): a stopped instance sends nothing, and that is no news. Two steps, so that a healthy branch costs one index probe: the newest
-- sample in the primary key's own order (project, metric, ts) is found at the first entry of a backward scan; only
-- the few silent branches then have their last 24 hours searched for the latest sample.
create or replace function ops.advisory_rule_metrics_missing(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    with silent as (
        select b.project_id, b.id, b.name
          from ops.branches b
         where b.project_id = any (p_project_ids) and b.stage = 'production' and b.archived_at is null
           and not exists (select 1 from ops.instances i
                            where i.branch_id = b.id and i.is_current and (i.desired = 'stopped' or i.retired_at is not null))
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
revoke all on function ops.advisory_rule_metrics_missing(uuid[], jsonb) from public, ops_app, ops_service;
