-- The notification_channel_failing advisory (warning) of a channel, in every project the channel serves (its
-- projects, or all of its organisation's): opened when the channel has just been marked failing, resolved when a
-- delivery succeeds again, or the channel is disabled or removed. The advisory scan leaves this rule alone.
create or replace function ops_private.notification_channel_advisories(p_channel_id uuid, p_open boolean)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    if not p_open then
        update ops.advisories a
           set status = 'resolved', resolved_at = pg_catalog.now()
         where a.rule = 'notification_channel_failing' and a.fingerprint = 'notification_channel_failing:' || p_channel_id
           and a.status <> 'resolved';
        return;
    end if;
    insert into ops.advisories (project_id, rule, fingerprint, severity, title, detail, remediation, measured_value)
    select p.id, 'notification_channel_failing', 'notification_channel_failing:' || c.id, 'warning',
           'Notification channel ' || c.name || ' is failing',
           pg_catalog.format('The %s channel %s has failed %s deliveries in a row since %s UTC%s. Its events are retried with backoff and given up after the last attempt.',
                             c.kind, c.name, c.consecutive_failures, pg_catalog.to_char(c.failing_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
                             coalesce('; last error: ' || pg_catalog.left(c.last_error, 300), '')),
           'Open Settings → Notifications, read the channel''s delivery log for the receiver''s answer, fix the URL, secret or SMTP '
           || 'settings (or the receiver), then send a test; redeliver what was missed. It resolves with the next successful delivery.',
           c.consecutive_failures
      from ops.notification_channels c
      join ops.projects p on p.org_id = c.org_id and p.archived_at is null
     where c.id = p_channel_id and (c.project_ids is null or p.id = any (c.project_ids))
    on conflict (project_id, fingerprint) where status <> 'resolved'
        do update set last_seen_at = pg_catalog.now(), detail = excluded.detail, measured_value = excluded.measured_value;
end
$$;
revoke all on function ops_private.notification_channel_advisories(uuid, boolean) from public, ops_app, ops_service;
