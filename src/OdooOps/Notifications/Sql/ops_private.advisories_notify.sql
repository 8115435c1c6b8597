-- An advisory that opens (new, or back from an expired suppression) is announced as advisory.opened, one that an open
-- one resolves (the scan, a person) as advisory.resolved, with its severity for the channels' least severity. A
-- suppressed one that resolves is no news: people had silenced it. A notification channel's own failing advisory is
-- not sent to that channel: it would fail there too, and count as one more failure.
create or replace function ops_private.advisories_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_title   text := coalesce(nullif(new.title, ''), new.rule, 'advisory');
    v_about   uuid := case when new.rule = 'notification_channel_failing'
                                and new.fingerprint ~ '^notification_channel_failing:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                           then pg_catalog.substr(new.fingerprint, 30)::uuid end;
    v_subject jsonb := pg_catalog.jsonb_build_object(
        'id', new.id, 'rule', new.rule, 'severity', new.severity, 'status', new.status, 'title', new.title,
        'detail', pg_catalog.left(new.detail, 2000), 'remediation', pg_catalog.left(new.remediation, 2000),
        'measured_value', new.measured_value, 'first_seen_at', new.first_seen_at, 'resolved_at', new.resolved_at);
begin
    if new.status = 'open' then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'advisory.opened', new.severity,
            coalesce(new.severity, 'advisory') || ': ' || v_title, 'advisory', v_subject, v_about);
    elsif new.status = 'resolved' and tg_op = 'UPDATE' and old.status = 'open' then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'advisory.resolved', new.severity,
            'resolved: ' || v_title, 'advisory', v_subject, v_about);
    end if;
    return null;
end
$$;
revoke all on function ops_private.advisories_notify() from public, ops_app, ops_service;
