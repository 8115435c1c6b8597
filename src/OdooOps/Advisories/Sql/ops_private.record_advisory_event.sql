-- An advisory's history, written whoever changes it (a person through ops.resolve_advisory, ops.suppress_advisory or
-- ops.unsuppress_advisory, the scan, psql): opened on insert; on a change of status, or a suppression renewed with
-- another date or reason, the new state. The actor is the transaction's user (null: the scan, the system).
create or replace function ops_private.record_advisory_event()
returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    insert into ops.advisory_events (advisory_id, project_id, event, actor_user_id, suppressed_until, reason, created_at)
    values (new.id, new.project_id,
            case when tg_op = 'INSERT' then 'opened'
                 when new.status = 'suppressed' then 'suppressed'
                 when new.status = 'resolved' then 'resolved'
                 else 'unsuppressed' end,
            ops.current_user_id(),
            case when new.status = 'suppressed' then new.suppressed_until end,
            case when new.status = 'suppressed' then new.suppress_reason end,
            case when tg_op = 'INSERT' then new.first_seen_at else pg_catalog.now() end);
    return null;
end
$$;
revoke all on function ops_private.record_advisory_event() from public, ops_app, ops_service;
