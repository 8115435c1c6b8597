-- A branch's current instance that should run and stops answering (unhealthy, failed, or unknown: its runner is not
-- heard from) is announced once as instance.down; when the branch's current instance runs again (the same one, or a
-- new release that replaced it), instance.recovered says so with how long it was down. Stopped on purpose (desired
-- 'stopped') is no news: the branch is no longer counted as down. ops_private.notification_down_branches remembers.
create or replace function ops_private.instances_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch  text;
    v_since   timestamptz;
    v_rows    int;
    v_subject jsonb;
begin
    if not new.is_current or new.retired_at is not null then
        return null;
    end if;
    if new.desired = 'stopped' then
        delete from ops_private.notification_down_branches d where d.branch_id = new.branch_id;
        return null;
    end if;
    v_branch := (select b.name from ops.branches b where b.id = new.branch_id);
    v_subject := pg_catalog.jsonb_build_object(
        'id', new.id, 'state', new.state, 'reason', new.reason, 'stage', new.stage, 'build_id', new.build_id,
        'restarts', new.restarts, 'started_at', new.started_at, 'ready_at', new.ready_at);
    if new.state in ('unhealthy', 'failed', 'unknown') then
        insert into ops_private.notification_down_branches (branch_id, instance_id, state)
        values (new.branch_id, new.id, new.state)
        on conflict (branch_id) do nothing;
        get diagnostics v_rows = row_count;
        if v_rows > 0 then
            perform ops_private.queue_notification(new.project_id, new.branch_id, 'instance.down', null,
                'the ' || new.stage || ' instance of ' || v_branch || ' is down (' || new.state || ')'
                    || coalesce(': ' || pg_catalog.left(new.reason, 200), ''), 'instance', v_subject);
        end if;
    elsif new.state = 'running' then
        delete from ops_private.notification_down_branches d where d.branch_id = new.branch_id returning d.since into v_since;
        if v_since is not null then
            perform ops_private.queue_notification(new.project_id, new.branch_id, 'instance.recovered', null,
                'the ' || new.stage || ' instance of ' || v_branch || ' is running again',
                'instance', v_subject || pg_catalog.jsonb_build_object('down_since', v_since,
                    'down_seconds', greatest(0, pg_catalog.round(extract(epoch from pg_catalog.now() - v_since)))::bigint));
        end if;
    end if;
    return null;
end
$$;
revoke all on function ops_private.instances_notify() from public, ops_app, ops_service;
