-- Folds the samples received in [folded_until, least(p_upto, folded_until + p_max_window)) into the rollups and moves
-- folded_until there. Its cost follows the new samples, not the history: it recomputes only the minute buckets those
-- samples fall in (each from its raw samples, through the primary key), then the hour buckets those minutes fall in
-- (each from its minute rows). Recomputing a bucket rather than adding to it makes a late sample for an old bucket
-- and a fold that is repeated both come out right. Callers loop until folded_until reaches p_upto.
create or replace function ops.fold_metric_rollups(p_upto timestamptz, p_max_window interval default interval '15 minutes')
returns table (folded_from timestamptz, folded_until timestamptz, samples bigint, minute_buckets integer, hour_buckets integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_from     timestamptz;
    v_to       timestamptz;
    v_samples  bigint;
    v_project  uuid[];
    v_branch   uuid[];
    v_metric   text[];
    v_bucket   timestamptz[];
    v_minutes  int;
    v_hours    int;
begin
    if p_upto is null or p_max_window is null or p_max_window <= interval '0' then
        raise exception 'fold_metric_rollups: p_upto and a positive p_max_window are required' using errcode = '22023';
    end if;

    select s.folded_until into v_from from ops_private.metric_rollup_state s where s.singleton for update;
    if not found then
        -- The first fold starts at the oldest sample: one scan of the history, once.
        insert into ops_private.metric_rollup_state (folded_until)
        values (coalesce((select pg_catalog.min(m.received_at) from ops.metric_samples m), p_upto))
        on conflict (singleton) do nothing;
        select s.folded_until into v_from from ops_private.metric_rollup_state s where s.singleton for update;
    end if;

    v_to := least(p_upto, v_from + p_max_window);
    if v_to <= v_from then
        return query select v_from, v_from, 0::bigint, 0, 0;
        return;
    end if;

    -- The minute buckets the new samples fall in (received_at is BRIN-indexed in every day partition).
    select coalesce(pg_catalog.sum(t.n), 0), pg_catalog.array_agg(t.project_id), pg_catalog.array_agg(t.branch_id),
           pg_catalog.array_agg(t.metric), pg_catalog.array_agg(t.bucket)
      into v_samples, v_project, v_branch, v_metric, v_bucket
      from (select s.project_id, s.branch_id, s.metric, pg_catalog.date_trunc('minute', s.ts, 'UTC') as bucket, pg_catalog.count(*) as n
              from ops.metric_samples s
             where s.received_at >= v_from and s.received_at < v_to
             group by 1, 2, 3, 4) t;

    insert into ops.metric_rollups_minute as r (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts, updated_at)
    select k.project_id, k.branch_id, k.metric, k.bucket, a.n, a.total, a.lo, a.hi, a.last, a.last_ts, pg_catalog.now()
      from rows from (pg_catalog.unnest(v_project), pg_catalog.unnest(v_branch), pg_catalog.unnest(v_metric), pg_catalog.unnest(v_bucket))
           as k(project_id, branch_id, metric, bucket)
     cross join lateral (
           select pg_catalog.count(*) as n, pg_catalog.sum(s.value) as total, pg_catalog.min(s.value) as lo, pg_catalog.max(s.value) as hi,
                  (pg_catalog.array_agg(s.value order by s.ts desc))[1] as last, pg_catalog.max(s.ts) as last_ts
             from ops.metric_samples s
            where s.project_id = k.project_id and s.metric = k.metric and s.branch_id = k.branch_id
              and s.ts >= k.bucket and s.ts < k.bucket + interval '1 minute') a
     where a.n > 0
    on conflict (project_id, metric, bucket, branch_id) do update
       set count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
           last = excluded.last, last_ts = excluded.last_ts, updated_at = excluded.updated_at;
    get diagnostics v_minutes = row_count;

    insert into ops.metric_rollups_hour as r (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts, updated_at)
    select h.project_id, h.branch_id, h.metric, h.bucket, a.n, a.total, a.lo, a.hi, a.last, a.last_ts, pg_catalog.now()
      from (select distinct k.project_id, k.branch_id, k.metric, pg_catalog.date_trunc('hour', k.bucket, 'UTC') as bucket
              from rows from (pg_catalog.unnest(v_project), pg_catalog.unnest(v_branch), pg_catalog.unnest(v_metric), pg_catalog.unnest(v_bucket))
                   as k(project_id, branch_id, metric, bucket)) h
     cross join lateral (
           select pg_catalog.sum(m.count)::bigint as n, pg_catalog.sum(m.sum) as total, pg_catalog.min(m.min) as lo, pg_catalog.max(m.max) as hi,
                  (pg_catalog.array_agg(m.last order by m.last_ts desc))[1] as last, pg_catalog.max(m.last_ts) as last_ts
             from ops.metric_rollups_minute m
            where m.project_id = h.project_id and m.metric = h.metric and m.branch_id = h.branch_id
              and m.bucket >= h.bucket and m.bucket < h.bucket + interval '1 hour') a
     where a.n > 0
    on conflict (project_id, metric, bucket, branch_id) do update
       set count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
           last = excluded.last, last_ts = excluded.last_ts, updated_at = excluded.updated_at;
    get diagnostics v_hours = row_count;

    update ops_private.metric_rollup_state s set folded_until = v_to, updated_at = pg_catalog.now() where s.singleton;
    return query select v_from, v_to, v_samples, v_minutes, v_hours;
end
$$;
revoke all on function ops.fold_metric_rollups(timestamptz, interval) from public, ops_app, ops_service;
grant execute on function ops.fold_metric_rollups(timestamptz, interval) to ops_service;
