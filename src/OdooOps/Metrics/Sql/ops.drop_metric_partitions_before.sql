-- Retention: drops every day partition that lies entirely before p_before
-- (UTC day). Returns how many were dropped.
create or replace function ops.drop_metric_partitions_before(p_before date)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_part     record;
    v_dropped  int := 0;
begin
    if p_before is null then
        return 0;
    end if;

    for v_part in
        select c.relname
          from pg_catalog.pg_inherits i
          join pg_catalog.pg_class c on c.oid = i.inhrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where i.inhparent = 'ops.metric_samples'::pg_catalog.regclass
           and n.nspname = 'ops_partitions'
           and c.relname ~ '^metric_samples_p[0-9]{8}$'
           -- the partition covers [day, day + 1); drop when day + 1 <= p_before
           and pg_catalog.to_date(pg_catalog.substr(c.relname, 17, 8), 'YYYYMMDD') + 1 <= p_before
         order by c.relname
    loop
        execute pg_catalog.format('drop table ops_partitions.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    end loop;

    return v_dropped;
end
$$;
revoke all on function ops.drop_metric_partitions_before(date) from public, ops_app, ops_service;
grant execute on function ops.drop_metric_partitions_before(date) to ops_service;
