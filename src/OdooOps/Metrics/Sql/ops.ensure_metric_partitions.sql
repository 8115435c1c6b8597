-- Creates ops_partitions.metric_samples_pYYYYMMDD for each UTC day in
-- [p_from, p_from + p_days). Idempotent; returns how many were created.
-- SECURITY DEFINER: partitions are owned by the schema owner whoever asks.
-- New partitions get no grants (reads go through the parent) and RLS on.
create or replace function ops.ensure_metric_partitions(p_from date, p_days int)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_day      date;
    v_name     text;
    v_created  int := 0;
    v_locked   boolean := false;
begin
    if p_from is null or p_days is null or p_days < 1 then
        return 0;
    end if;
    if p_days > 366 then
        raise exception 'ensure_metric_partitions: p_days must be at most 366 (got %)', p_days
            using errcode = '22023';
    end if;

    for i in 0 .. p_days - 1 loop
        v_day  := p_from + i;
        v_name := 'metric_samples_p' || pg_catalog.to_char(v_day, 'YYYYMMDD');

        if pg_catalog.to_regclass('ops_partitions.' || v_name) is null then
            -- Only take the (transaction-long) lock when something is missing,
            -- so ingest into existing partitions never serializes on it.
            if not v_locked then
                perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('ops.metric_partitions'));
                v_locked := true;
            end if;
            -- re-check: a concurrent caller may have created it while we waited
            if pg_catalog.to_regclass('ops_partitions.' || v_name) is null then
                begin
                    -- bounds are explicit UTC instants, independent of the session TimeZone
                    execute pg_catalog.format(
                        'create table ops_partitions.%I partition of ops.metric_samples for values from (%L) to (%L)',
                        v_name,
                        v_day::text || ' 00:00:00+00',
                        (v_day + 1)::text || ' 00:00:00+00');
                    execute pg_catalog.format('alter table ops_partitions.%I enable row level security', v_name);
                    v_created := v_created + 1;
                exception when duplicate_table then
                    -- the re-check can read a catalog snapshot from before a racing creator committed: theirs will do
                    null;
                end;
            end if;
        end if;
    end loop;

    return v_created;
end
$$;
revoke all on function ops.ensure_metric_partitions(date, int) from public, ops_app, ops_service;
grant execute on function ops.ensure_metric_partitions(date, int) to ops_service;
