-- A build that reaches a terminal status leaves the queue, and its snapshot of variables goes (no copy of a secret
-- outlives the build that needed it).
create or replace function ops.builds_dequeue()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    delete from ops.run_queue q where q.build_id = new.id;
    delete from ops_private.build_snapshots s where s.build_id = new.id;
    return null;
end
$$;
revoke all on function ops.builds_dequeue() from public, ops_app, ops_service;
