-- Appends an instance's Odoo log lines by sequence number (a re-sent batch is stored once), for an instance placed on
-- this runner only (P0002 otherwise), and wakes the instance's log streams. Retention is the scheduled job's.
create or replace function ops.append_instance_logs(p_runner_id uuid, p_instance_id uuid, p_seqs bigint[], p_ts timestamptz[],
                                                    p_levels text[], p_lines text[])
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_project  uuid;
    v_stored   int;
begin
    select i.project_id into v_project from ops.instances i where i.id = p_instance_id and i.runner_id = p_runner_id;
    if not found then
        raise exception 'No instance % on this runner.', p_instance_id using errcode = 'P0002', column = 'instance_id';
    end if;
    insert into ops.instance_logs (instance_id, project_id, seq, ts, level, line)
    select p_instance_id, v_project, x.seq, coalesce(x.ts, pg_catalog.now()), x.level, x.line
      from unnest(p_seqs, p_ts, p_levels, p_lines) as x(seq, ts, level, line) -- the multi-array form: unqualified
    on conflict do nothing;
    get diagnostics v_stored = row_count;
    if v_stored > 0 then
        perform pg_catalog.pg_notify('instance_logs', p_instance_id::text);
    end if;
    return v_stored;
end
$$;
revoke all on function ops.append_instance_logs(uuid, uuid, bigint[], timestamptz[], text[], text[]) from public, ops_app, ops_service;
grant execute on function ops.append_instance_logs(uuid, uuid, bigint[], timestamptz[], text[], text[]) to ops_service;
