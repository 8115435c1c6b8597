-- The ingest function's write: one batch of samples for one project, given as parallel arrays (the host's parser has
-- validated each field already). A sample without a branch goes to the production branch. Duplicates (project, branch,
-- metric, ts) are skipped and not counted. With an Idempotency-Key, a repeated request within 24 h answers the first
-- one's count (replayed) and a different body under the same key is refused. Errors name the field they concern
-- (column = 'samples[3].branch') so the API can answer a ProblemDetails naming it. received_at is stamped through
-- ops.metric_receipt_stamp so that the rollup fold never skips a sample still in flight.
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
revoke all on function ops.ingest_metric_batch(uuid, text[], timestamptz[], double precision[], text[], jsonb[], text, bytea) from public, ops_app, ops_service;
grant execute on function ops.ingest_metric_batch(uuid, text[], timestamptz[], double precision[], text[], jsonb[], text, bytea) to ops_service;
