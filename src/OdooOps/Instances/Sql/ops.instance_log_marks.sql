-- What a live instance log stream would see change of each instance, as one text: its state, what people asked for,
-- its restarts and its last line's seq. The server's one instance log watcher compares the marks of the instances that
-- have streams between rounds and wakes the streams of an instance whose mark changed (the runner's state reports send
-- no notification; a missed one is covered too), so that streams never poll the database themselves. No log text leaves.
create or replace function ops.instance_log_marks(p_instance_ids uuid[])
returns table (instance_id uuid, mark text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select i.id,
           i.state || ':' || i.desired || ':' || i.restarts || ':' || coalesce(i.reason, '') || ':'
           || coalesce((select l.seq from ops.instance_logs l where l.instance_id = i.id order by l.seq desc limit 1), -1)
      from ops.instances i
     where i.id = any (p_instance_ids)
$$;
revoke all on function ops.instance_log_marks(uuid[]) from public, ops_app, ops_service;
grant execute on function ops.instance_log_marks(uuid[]) to ops_service;
