-- The delivery workers' announcement of down branches (every serve node runs one; FOR UPDATE SKIP LOCKED: each once):
-- a branch written down by ops_private.instances_notify that is still down p_grace_seconds later is announced as
-- instance.down, once (announced_at). One whose current instance is no longer down (replaced by a release that is
-- starting, stopped on purpose) is forgotten without a word. Answers how many were announced.
create or replace function ops.announce_notification_downs(p_now timestamptz, p_grace_seconds int)
returns int
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_down   ops_private.notification_down_branches;
    v_inst   ops.instances;
    v_count  int := 0;
begin
    for v_down in
        select d.* from ops_private.notification_down_branches d
         where d.announced_at is null and d.since <= p_now - pg_catalog.make_interval(secs => greatest(p_grace_seconds, 0))
         order by d.since
           for update skip locked
    loop
        select * into v_inst from ops.instances i where i.branch_id = v_down.branch_id and i.is_current and i.retired_at is null;
        if not found or v_inst.desired = 'stopped' or v_inst.state not in ('unhealthy', 'failed', 'unknown') then
            delete from ops_private.notification_down_branches d where d.branch_id = v_down.branch_id;
            continue;
        end if;
        perform ops_private.queue_notification(v_inst.project_id, v_inst.branch_id, 'instance.down', null,
            'the ' || v_inst.stage || ' instance of ' || coalesce((select b.name from ops.branches b where b.id = v_inst.branch_id), 'a branch')
                || ' is down (' || v_inst.state || ')' || coalesce(': ' || pg_catalog.left(v_inst.reason, 200), ''),
            'instance', ops_private.notification_instance_subject(v_inst), null);
        update ops_private.notification_down_branches d set announced_at = p_now where d.branch_id = v_down.branch_id;
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
revoke all on function ops.announce_notification_downs(timestamptz, int) from public, ops_app, ops_service;
grant execute on function ops.announce_notification_downs(timestamptz, int) to ops_service;
