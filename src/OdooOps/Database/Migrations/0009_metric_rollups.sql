-- 0009: minute and hour rollups of ops.metric_samples kept incrementally (the seed's known issue 2: its rollup was a
-- materialized view that nobody refreshed), and retention of the rollups.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)
--
-- How a fold stays exact: every sample carries received_at, and a fold takes the samples received in
-- [folded_until, cut-off). A plain now() would be the start of the inserting transaction, which may commit after a
-- fold has moved past that time: its samples would never be folded. So inserts stamp received_at through
-- ops.metric_receipt_stamp(), which first takes a shared advisory lock held to commit, and the fold's cut-off is read
-- under the same lock taken exclusively: once a cut-off is known, every sample stamped before it is committed (or
-- rolled back) and visible. The exclusive lock is held only for that instant, so ingest waits at most as long as the
-- longest ingest transaction in flight.

-- How far the rollups have folded: every sample received before folded_until is in them. One row, owner-only; it is
-- also the lock that keeps two folds from running at once.
create table ops_private.metric_rollup_state (
    singleton     boolean primary key default true check (singleton),
    folded_until  timestamptz not null,
    updated_at    timestamptz not null default now()
);
alter table ops_private.metric_rollup_state enable row level security;
revoke all on ops_private.metric_rollup_state from public;

-- Retention deletes rollups by age. Rows arrive roughly in bucket order, so a BRIN index finds the old ones cheaply.
create index metric_rollups_minute_bucket_brin on ops.metric_rollups_minute using brin (bucket);
create index metric_rollups_hour_bucket_brin on ops.metric_rollups_hour using brin (bucket);

-- The received_at of the samples a transaction inserts. Call it once per transaction, right before the insert.
create function ops.metric_receipt_stamp()
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended('ops.metric_samples:receipts', 0));
    return pg_catalog.clock_timestamp();
end
$$;
revoke execute on function ops.metric_receipt_stamp() from public;

-- The time up to which samples may be folded. Call it in a transaction of its own (autocommit): the exclusive lock
-- it takes blocks ingest until that transaction ends.
create function ops.metric_fold_cutoff()
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform pg_catalog.set_config('lock_timeout', '10s', true);
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ops.metric_samples:receipts', 0));
    return pg_catalog.clock_timestamp();
end
$$;
revoke execute on function ops.metric_fold_cutoff() from public;
grant execute on function ops.metric_fold_cutoff() to ops_service;

-- Folds the samples received in [folded_until, least(p_upto, folded_until + p_max_window)) into the rollups and moves
-- folded_until there. Its cost follows the new samples, not the history: it recomputes only the minute buckets those
-- samples fall in (each from its raw samples, through the primary key), then the hour buckets those minutes fall in
-- (each from its minute rows). Recomputing a bucket rather than adding to it makes a late sample for an old bucket
-- and a fold that is repeated both come out right. Callers loop until folded_until reaches p_upto.
create function ops.fold_metric_rollups(p_upto timestamptz, p_max_window interval default interval '15 minutes')
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
revoke execute on function ops.fold_metric_rollups(timestamptz, interval) from public;
grant execute on function ops.fold_metric_rollups(timestamptz, interval) to ops_service;

-- Retention of rollups: deletes at most p_batch rows of one resolution ('minute' or 'hour') whose bucket is before
-- p_before, so that a large backlog is removed in short transactions. Returns how many were deleted; callers repeat
-- until it returns fewer than p_batch.
create function ops.delete_metric_rollups_before(p_resolution text, p_before timestamptz, p_batch integer)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_deleted int;
begin
    if p_before is null or p_batch is null or p_batch < 1 then
        raise exception 'delete_metric_rollups_before: p_before and a positive p_batch are required' using errcode = '22023';
    end if;
    if p_resolution = 'minute' then
        delete from ops.metric_rollups_minute r
         where r.ctid = any (array(select x.ctid from ops.metric_rollups_minute x where x.bucket < p_before limit p_batch));
    elsif p_resolution = 'hour' then
        delete from ops.metric_rollups_hour r
         where r.ctid = any (array(select x.ctid from ops.metric_rollups_hour x where x.bucket < p_before limit p_batch));
    else
        raise exception 'delete_metric_rollups_before: resolution must be minute or hour (got %)', coalesce(p_resolution, 'null')
            using errcode = '22023';
    end if;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;
revoke execute on function ops.delete_metric_rollups_before(text, timestamptz, integer) from public;
grant execute on function ops.delete_metric_rollups_before(text, timestamptz, integer) to ops_service;

-- The two functions that insert samples, as before but stamping received_at through ops.metric_receipt_stamp().

create or replace function ops.ingest_metric_batch(
    p_project_id       uuid,
    p_metrics          text[],
    p_ts               timestamptz[],
    p_values           double precision[],
    p_branches         text[],
    p_labels           jsonb[],
    p_idempotency_key  text,
    p_request_hash     bytea)
returns table (inserted integer, replayed boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count     int := coalesce(pg_catalog.cardinality(p_metrics), 0);
    v_prod      uuid;
    v_names     text[];
    v_ids       uuid[];
    v_ord       bigint;
    v_missing   text;
    v_day       date;
    v_hash      bytea;
    v_stored    int;
    v_inserted  int;
    v_received  timestamptz;
begin
    if v_count > 10000 then
        raise exception 'At most 10000 samples per request (got %).', v_count using errcode = '22023', column = 'samples';
    end if;
    if coalesce(pg_catalog.cardinality(p_ts), 0) <> v_count
       or coalesce(pg_catalog.cardinality(p_values), 0) <> v_count
       or (p_branches is not null and pg_catalog.cardinality(p_branches) <> v_count)
       or (p_labels is not null and pg_catalog.cardinality(p_labels) <> v_count) then
        raise exception 'ingest_metric_batch: the sample arrays differ in length' using errcode = '22023', column = 'samples';
    end if;

    if not exists (select 1 from ops.projects p where p.id = p_project_id and p.archived_at is null) then
        raise exception 'No project with this id.' using errcode = 'P0002', column = 'project_id';
    end if;

    if p_idempotency_key is not null then
        -- Forget this project's keys older than 24 h; rows another request is deleting right now are skipped
        -- rather than waited for.
        delete from ops_private.ingest_idempotency i
         where (i.project_id, i.key) in (select x.project_id, x.key
                                           from ops_private.ingest_idempotency x
                                          where x.project_id = p_project_id
                                            and x.created_at < pg_catalog.now() - interval '24 hours'
                                            for update skip locked);
        -- Claim the key first: a concurrent request with the same key waits here until this one commits (then
        -- replays its answer) or rolls back (then does the work itself).
        insert into ops_private.ingest_idempotency (project_id, key, request_hash)
        values (p_project_id, p_idempotency_key, p_request_hash)
        on conflict do nothing;
        if not found then
            select i.request_hash, i.inserted_count into v_hash, v_stored
              from ops_private.ingest_idempotency i
             where i.project_id = p_project_id and i.key = p_idempotency_key;
            if v_hash is distinct from p_request_hash then
                raise exception 'This Idempotency-Key was used for a different body in the last 24 hours; use a new key for a new batch.'
                    using errcode = '22023', column = 'Idempotency-Key';
            end if;
            return query select v_stored, true;
            return;
        end if;
    end if;

    select b.id into v_prod
      from ops.branches b
     where b.project_id = p_project_id and b.is_production and b.archived_at is null;

    if p_branches is not null then
        -- The distinct names (usually one) and their ids; an unknown or archived name maps to null.
        select pg_catalog.array_agg(n.name), pg_catalog.array_agg(b.id) into v_names, v_ids
          from (select distinct x as name from pg_catalog.unnest(p_branches) x where x is not null) n
          left join ops.branches b on b.project_id = p_project_id and b.name = n.name and b.archived_at is null;
        select s.ord - 1, s.name into v_ord, v_missing
          from pg_catalog.unnest(p_branches) with ordinality s(name, ord)
         where s.name is not null and v_ids[pg_catalog.array_position(v_names, s.name)] is null
         order by s.ord
         limit 1;
        if found then
            raise exception 'This project has no branch named %.', pg_catalog.quote_literal(v_missing)
                using errcode = '22023', column = 'samples[' || v_ord || '].branch';
        end if;
    end if;

    if v_prod is null and v_count > 0 then
        select s.ord - 1 into v_ord
          from rows from (pg_catalog.unnest(p_metrics), pg_catalog.unnest(p_branches)) with ordinality s(metric, name, ord)
         where s.name is null
         order by s.ord
         limit 1;
        if found then
            raise exception 'This project has no production branch: name the branch of this sample.'
                using errcode = '22023', column = 'samples[' || v_ord || '].branch';
        end if;
    end if;

    -- Late samples land in a day that may have no partition yet (there is no default partition). Two requests
    -- can race to create the same day: ensure_metric_partitions re-checks after its advisory lock, but its catalog
    -- look-up may not see the winner's table yet and CREATE then fails with duplicate_table. By then the winner
    -- has committed, so the partition is there: carry on. (Checked first so that the usual case, the partition
    -- exists, costs no subtransaction.)
    for v_day in select distinct (t at time zone 'UTC')::date from pg_catalog.unnest(p_ts) t loop
        if pg_catalog.to_regclass('ops_partitions.metric_samples_p' || pg_catalog.to_char(v_day, 'YYYYMMDD')) is null then
            begin
                perform ops.ensure_metric_partitions(v_day, 1);
            exception when duplicate_table then
                null;
            end;
        end if;
    end loop;

    v_received := ops.metric_receipt_stamp();

    -- A plain INSERT first: ON CONFLICT costs an extra index probe and a confirmation WAL record per row, and a
    -- batch usually holds no duplicate. Only when one turns up is the batch inserted again skipping duplicates
    -- (the first attempt is rolled back with its subtransaction, so nothing is stored twice).
    begin
        insert into ops.metric_samples (project_id, branch_id, metric, ts, value, labels, received_at)
        select p_project_id, coalesce(v_ids[pg_catalog.array_position(v_names, s.branch)], v_prod), s.metric, s.ts, s.value, s.labels, v_received
          from rows from (pg_catalog.unnest(p_metrics), pg_catalog.unnest(p_ts), pg_catalog.unnest(p_values),
                          pg_catalog.unnest(p_branches), pg_catalog.unnest(p_labels)) as s(metric, ts, value, branch, labels);
        get diagnostics v_inserted = row_count;
    exception when unique_violation then
        insert into ops.metric_samples (project_id, branch_id, metric, ts, value, labels, received_at)
        select p_project_id, coalesce(v_ids[pg_catalog.array_position(v_names, s.branch)], v_prod), s.metric, s.ts, s.value, s.labels, v_received
          from rows from (pg_catalog.unnest(p_metrics), pg_catalog.unnest(p_ts), pg_catalog.unnest(p_values),
                          pg_catalog.unnest(p_branches), pg_catalog.unnest(p_labels)) as s(metric, ts, value, branch, labels)
        on conflict do nothing;
        get diagnostics v_inserted = row_count;
    end;

    if p_idempotency_key is not null then
        update ops_private.ingest_idempotency i set inserted_count = v_inserted
         where i.project_id = p_project_id and i.key = p_idempotency_key;
    end if;
    return query select v_inserted, false;
end
$$;

create or replace function ops.ingest_metrics(p_project_id uuid, p_ts timestamptz, p_samples jsonb)
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
    v_received  timestamptz;
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

    v_received := ops.metric_receipt_stamp();

    -- 4. One set-based insert; duplicates (same project, metric, ts, branch) are skipped.
    insert into ops.metric_samples (project_id, branch_id, metric, ts, value, labels, received_at)
    select p_project_id,
           coalesce(b.id, v_prod),
           r.metric,
           coalesce(r.ts, p_ts),
           r.value,
           case when pg_catalog.jsonb_typeof(r.labels) = 'object' then r.labels end,
           v_received
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
