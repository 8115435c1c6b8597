-- Retention of instance logs, at most p_batch lines per call so that a large backlog goes in short transactions
-- (callers repeat until a call deleted nothing): first lines older than p_before (oldest first), then, per instance,
-- the lines beyond its newest p_max_lines (by seq: the runner numbers an instance's lines in order, so lines with
-- seq <= last - p_max_lines are the oldest and the rest are at most p_max_lines).
create or replace function ops.prune_instance_logs(p_before timestamptz, p_max_lines bigint, p_batch integer)
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_left      bigint := p_batch;
    v_n         bigint;
    v_instance  record;
begin
    if p_before is null or p_max_lines is null or p_max_lines < 1 or p_batch is null or p_batch < 1 then
        raise exception 'prune_instance_logs: p_before, a positive p_max_lines and a positive p_batch are required' using errcode = '22023';
    end if;

    delete from ops.instance_logs l
     where (l.instance_id, l.seq) in (select o.instance_id, o.seq from ops.instance_logs o
                                       where o.ts < p_before order by o.ts limit v_left);
    get diagnostics v_n = row_count;
    v_left := v_left - v_n;

    for v_instance in
        select i.id, s.last
          from ops.instances i
         cross join lateral (select l.seq as last from ops.instance_logs l where l.instance_id = i.id order by l.seq desc limit 1) s
         where exists (select 1 from ops.instance_logs f where f.instance_id = i.id and f.seq <= s.last - p_max_lines)
    loop
        exit when v_left <= 0;
        delete from ops.instance_logs l
         where l.instance_id = v_instance.id
           and l.seq = any (array(select g.seq from ops.instance_logs g
                                   where g.instance_id = v_instance.id and g.seq <= v_instance.last - p_max_lines
                                   order by g.seq limit v_left));
        get diagnostics v_n = row_count;
        v_left := v_left - v_n;
    end loop;
    return p_batch - v_left;
end
$$;
revoke all on function ops.prune_instance_logs(timestamptz, bigint, integer) from public, ops_app, ops_service;
grant execute on function ops.prune_instance_logs(timestamptz, bigint, integer) to ops_service;
