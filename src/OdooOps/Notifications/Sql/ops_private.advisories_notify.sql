-- An advisory that opens (new, or back from an expired suppression) is announced as advisory.opened, one that an open
-- one resolves (the scan, a person) as advisory.resolved, with its severity for the channels' least severity. A
-- suppressed one that resolves is no news: people had silenced it.
create or replace function ops_private.advisories_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_subject jsonb := pg_catalog.jsonb_build_object(
        'id', new.id, 'rule', new.rule, 'severity', new.severity, 'status', new.status, 'title', new.title,
        'detail', pg_catalog.left(new.detail, 2000), 'remediation', pg_catalog.left(new.remediation, 2000),
        'measured_value', new.measured_value, 'first_seen_at', new.first_seen_at, 'resolved_at', new.resolved_at);
begin
    if new.status = 'open' then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'advisory.opened', new.severity,
            new.severity || ': ' || new.title, 'advisory', v_subject);
    elsif new.status = 'resolved' and tg_op = 'UPDATE' and old.status = 'open' then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'advisory.resolved', new.severity,
            'resolved: ' || new.title, 'advisory', v_subject);
    end if;
    return null;
end
$$;
revoke all on function ops_private.advisories_notify() from public, ops_app, ops_service;
