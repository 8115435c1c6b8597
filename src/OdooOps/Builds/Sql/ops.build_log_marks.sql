-- What a live log stream would see change of each build, as one text: its status, its last line's seq and its steps'
-- statuses. The server's one watcher compares the marks of the builds that have streams between rounds and wakes the
-- streams of a build whose mark changed (the fallback for a missed notification), so that streams never poll the
-- database themselves. No log text leaves.
create or replace function ops.build_log_marks(p_build_ids uuid[])
returns table (build_id uuid, mark text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select b.id,
           b.status || ':' || coalesce((select pg_catalog.max(l.seq) from ops.build_logs l where l.build_id = b.id), -1)
           || ':' || coalesce((select pg_catalog.string_agg(s.seq || s.status, ',' order by s.seq)
                                 from ops.build_steps s where s.build_id = b.id), '')
      from ops.builds b
     where b.id = any (p_build_ids)
$$;
revoke all on function ops.build_log_marks(uuid[]) from public, ops_app, ops_service;
grant execute on function ops.build_log_marks(uuid[]) to ops_service;
