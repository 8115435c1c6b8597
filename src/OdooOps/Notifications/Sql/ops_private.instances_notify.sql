-- A branch's current instance that should run and stops answering (unhealthy, failed, or unknown: its runner is not
-- heard from) is written down in ops_private.notification_down_branches, since when; the delivery workers announce it
-- as instance.down once it has stayed down past a grace period (ops.announce_notification_downs), so an instance that
-- flaps between unhealthy and running is no news. When the branch's current instance runs again (the same one, or a
-- new release that replaced it), instance.recovered says so with how long it was down — only when the down was sent.
-- Stopped on purpose (desired 'stopped') is no news: the branch is no longer counted as down. Like every announcement,
-- it never breaks the runner's sync that causes it: a failure writes nothing and raises a WARNING instead.
create or replace function ops_private.instances_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch     text;
    v_since      timestamptz;
    v_announced  timestamptz;
    v_rows       int;
begin
    if not new.is_current or new.retired_at is not null then
        return null;
    end if;
    begin
        if new.desired = 'stopped' then
            delete from ops_private.notification_down_branches d where d.branch_id = new.branch_id;
            return null;
        end if;
        if new.state in ('unhealthy', 'failed', 'unknown') then
            insert into ops_private.notification_down_branches (branch_id, instance_id, state)
            values (new.branch_id, new.id, new.state)
            on conflict (branch_id) do nothing;
            get diagnostics v_rows = row_count;
            if v_rows > 0 then
                perform pg_catalog.pg_notify('ops_notifications', ''); -- the workers learn when its grace ends
            end if;
        elsif new.state = 'running' then
            delete from ops_private.notification_down_branches d where d.branch_id = new.branch_id
            returning d.since, d.announced_at into v_since, v_announced;
            if v_announced is not null then
                v_branch := coalesce((select b.name from ops.branches b where b.id = new.branch_id), 'a branch');
                perform ops_private.queue_notification(new.project_id, new.branch_id, 'instance.recovered', null,
                    'the ' || coalesce(new.stage, 'branch''s') || ' instance of ' || v_branch || ' is running again',
                    'instance', ops_private.notification_instance_subject(new) || pg_catalog.jsonb_build_object('down_since', v_since,
                        'down_seconds', greatest(0, pg_catalog.round(extract(epoch from pg_catalog.now() - v_since)))::bigint), null);
            end if;
        end if;
    exception when others then
        raise warning 'OdooOps: the down state of branch % was not written (%: %); the change that caused it stands.', new.branch_id, sqlstate, sqlerrm;
    end;
    return null;
end
$$;
revoke all on function ops_private.instances_notify() from public, ops_app, ops_service;
