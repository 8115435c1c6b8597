using Dapper;
using Npgsql;

namespace OdooOps.Seed;

/// <summary>
/// The demo organisation's notification channels, so that Settings → Notifications shows real-looking content: a Slack
/// channel, a webhook to an incident bridge whose receiver had been answering 503, and an on-call e-mail for Production
/// ERP's critical news, each with a delivery log. They are demo furniture that must never send anything: every one is
/// disabled, names "(demo)", points at the reserved, never-resolving .invalid domain (hooks.example.invalid,
/// oncall@example.invalid), holds no secret, and none of its deliveries is pending — so a `./run.sh` user's worker has
/// nothing to send, and an admin who enables one gets failures, not requests to someone's real server.
/// </summary>
internal static class DemoNotifications
{
    public static Task SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId) => conn.ExecuteAsync("""
        with erp as (select id, name, slug from ops.projects where org_id = @orgId and slug = 'prod-erp'),
        channels as (
            insert into ops.notification_channels (org_id, name, kind, target, events, project_ids, min_severity, enabled, consecutive_failures,
                                                   last_delivery_at, last_success_at, last_error, created_at)
            values (@orgId, '#ops-alerts (demo)', 'slack', 'https://hooks.example.invalid/…',
                    '{build.failed,build.fixed,deployment.succeeded,deployment.failed,deployment.reverted,backup.failed,backup.verification_failed,instance.down,instance.recovered,advisory.opened,advisory.resolved}',
                    null, 'critical', false, 0, now() - interval '25 minutes', now() - interval '25 minutes', null, now() - interval '30 days'),
                   (@orgId, 'Incident bridge (demo)', 'webhook', 'https://hooks.example.invalid/odooops',
                    '{build.failed,deployment.failed,deployment.reverted,instance.down,instance.recovered}', null, 'warning', false, 0,
                    now() - interval '6 minutes', now() - interval '3 hours', 'HTTP 503: Service Unavailable', now() - interval '12 days'),
                   (@orgId, 'On-call e-mail (demo)', 'email', 'oncall@example.invalid, cto@example.invalid',
                    '{build.failed,backup.failed,backup.verification_failed,instance.down,advisory.opened}', (select array[id] from erp), 'critical', false,
                    0, now() - interval '1 day', now() - interval '1 day', null, now() - interval '20 days')
            returning id, name),
        log(channel, event, summary, status, attempts, code, error, age) as (values
            ('#ops-alerts (demo)', 'deployment.succeeded', 'Production ERP: 3f9c2a1b7d4e is live on main', 'delivered', 1, 200, null, interval '25 minutes'),
            ('#ops-alerts (demo)', 'build.failed', 'Website & eCommerce: build of feature-checkout failed: tests: 3 failed', 'delivered', 1, 200, null, interval '3 hours'),
            ('#ops-alerts (demo)', 'build.fixed', 'Website & eCommerce: build of feature-checkout is fixed: it succeeded after a failure', 'delivered', 2, 200, null, interval '2 hours'),
            ('#ops-alerts (demo)', 'advisory.opened', 'Production ERP: warning: Memory high on main', 'delivered', 1, 200, null, interval '1 day'),
            ('Incident bridge (demo)', 'instance.down', 'Field Service: the production instance of main is down (unhealthy)', 'failed', 5, 503,
             'HTTP 503: Service Unavailable (the channel was disabled)', interval '2 hours'),
            ('Incident bridge (demo)', 'build.failed', 'Field Service: build of main failed: odoo: exit code 1 in the update', 'failed', 8, 503,
             'Gave up after 8 attempts: HTTP 503: Service Unavailable', interval '5 hours'),
            ('Incident bridge (demo)', 'deployment.reverted', 'Production ERP: deployment of 5e6f7a8b9c0d to main was reverted: odoo: update failed', 'unknown', 1, null,
             'Outcome unknown: the server sending it stopped before the receiver''s answer was recorded. It is not sent again by itself; redeliver it if the receiver did not get it.',
             interval '4 hours'),
            ('Incident bridge (demo)', 'deployment.succeeded', 'Production ERP: rolled main back to 9a8b7c6d5e4f', 'delivered', 1, 202, null, interval '3 hours'),
            ('On-call e-mail (demo)', 'backup.verification_failed', 'Production ERP: daily backup of main could not be verified: table count 212, manifest says 214',
             'delivered', 1, 250, null, interval '1 day')),
        events as (
            insert into ops_private.notification_events (org_id, project_id, event, summary, data, created_at)
            select @orgId, (select id from erp), l.event, l.summary, jsonb_build_object('demo', true), now() - l.age from log l
            returning id, summary)
        insert into ops.notification_deliveries (org_id, channel_id, event_id, event, project_id, summary, status, attempts, next_attempt_at,
                                                 last_attempt_at, response_code, error, duration_ms, delivered_at, created_at)
        select @orgId, c.id, e.id, l.event, (select id from erp), l.summary, l.status, l.attempts, null,
               now() - l.age + interval '1 minute', l.code, l.error, 180, case when l.status = 'delivered' then now() - l.age end, now() - l.age
          from log l join channels c on c.name = l.channel join events e on e.summary = l.summary;
        """, new { orgId }, tx);
}
