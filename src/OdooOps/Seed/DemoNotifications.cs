using Dapper;
using Npgsql;

namespace OdooOps.Seed;

/// <summary>
/// The demo organisation's notification channels, so that Settings → Notifications shows real-looking content: a Slack
/// channel that delivers, a webhook to an incident bridge that has been failing for two hours (its advisory open in the
/// projects it serves), and an on-call e-mail for Production ERP's critical news, each with a delivery log. Their secrets
/// are not set (the seed cannot encrypt: the keys are the server's), so new events to them fail until an admin sets one.
/// </summary>
internal static class DemoNotifications
{
    public static Task SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId) => conn.ExecuteAsync("""
        with erp as (select id, name, slug from ops.projects where org_id = @orgId and slug = 'prod-erp'),
        channels as (
            insert into ops.notification_channels (org_id, name, kind, target, events, project_ids, min_severity, consecutive_failures,
                                                   failing_since, last_delivery_at, last_success_at, last_error, created_at)
            values (@orgId, '#ops-alerts', 'slack', 'https://hooks.slack.com/…',
                    '{build.failed,build.fixed,deployment.succeeded,deployment.failed,deployment.reverted,backup.failed,backup.verification_failed,instance.down,instance.recovered,advisory.opened,advisory.resolved}',
                    null, 'critical', 0, null, now() - interval '25 minutes', now() - interval '25 minutes', null, now() - interval '30 days'),
                   (@orgId, 'Incident bridge', 'webhook', 'https://hooks.example.com/odooops',
                    '{build.failed,deployment.failed,deployment.reverted,instance.down,instance.recovered}', null, 'warning', 7,
                    now() - interval '2 hours', now() - interval '6 minutes', now() - interval '3 hours', 'HTTP 503: Service Unavailable',
                    now() - interval '12 days'),
                   (@orgId, 'On-call e-mail', 'email', 'oncall@demo.odooops.dev, cto@demo.odooops.dev',
                    '{build.failed,backup.failed,backup.verification_failed,instance.down,advisory.opened}', (select array[id] from erp), 'critical', 0,
                    null, now() - interval '1 day', now() - interval '1 day', null, now() - interval '20 days')
            returning id, name),
        log(channel, event, summary, status, attempts, code, error, age, next_in) as (values
            ('#ops-alerts', 'deployment.succeeded', 'Production ERP: 3f9c2a1b7d4e is live on main', 'delivered', 1, 200, null, interval '25 minutes', null),
            ('#ops-alerts', 'build.failed', 'Website & eCommerce: build of feature-checkout failed: tests: 3 failed', 'delivered', 1, 200, null, interval '3 hours', null),
            ('#ops-alerts', 'build.fixed', 'Website & eCommerce: build of feature-checkout is fixed: it succeeded after a failure', 'delivered', 2, 200, null, interval '2 hours', null),
            ('#ops-alerts', 'advisory.opened', 'Production ERP: warning: Memory high on main', 'delivered', 1, 200, null, interval '1 day', null),
            ('Incident bridge', 'instance.down', 'Field Service: the production instance of main is down (unhealthy)', 'pending', 5, 503,
             'HTTP 503: Service Unavailable', interval '2 hours', interval '4 minutes'),
            ('Incident bridge', 'build.failed', 'Field Service: build of main failed: odoo: exit code 1 in the update', 'failed', 8, 503,
             'HTTP 503: Service Unavailable', interval '5 hours', null),
            ('Incident bridge', 'deployment.succeeded', 'Production ERP: rolled main back to 9a8b7c6d5e4f', 'delivered', 1, 202, null, interval '3 hours', null),
            ('On-call e-mail', 'backup.verification_failed', 'Production ERP: daily backup of main could not be verified: table count 212, manifest says 214',
             'delivered', 1, 250, null, interval '1 day', null)),
        events as (
            insert into ops_private.notification_events (org_id, project_id, event, summary, data, created_at)
            select @orgId, (select id from erp), l.event, l.summary, jsonb_build_object('demo', true), now() - l.age from log l
            returning id, summary)
        insert into ops.notification_deliveries (org_id, channel_id, event_id, event, project_id, summary, status, attempts, next_attempt_at,
                                                 last_attempt_at, response_code, error, duration_ms, delivered_at, created_at)
        select @orgId, c.id, e.id, l.event, (select id from erp), l.summary, l.status, l.attempts,
               case when l.status = 'pending' then now() + l.next_in end, now() - l.age + interval '1 minute', l.code, l.error, 180,
               case when l.status = 'delivered' then now() - l.age end, now() - l.age
          from log l join channels c on c.name = l.channel join events e on e.summary = l.summary;
        select ops_private.notification_channel_advisories(id, true) from ops.notification_channels where org_id = @orgId and name = 'Incident bridge';
        """, new { orgId }, tx);
}
