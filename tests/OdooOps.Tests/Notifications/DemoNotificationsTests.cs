using Dapper;
using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// The demo's notification channels fill Settings → Notifications with a delivery log but can never send anything: a
/// `./run.sh` user's delivery worker finds nothing to send, and the targets are on the reserved .invalid domain.
/// </summary>
public sealed class DemoNotificationsTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Demo_channels_are_disabled_point_nowhere_hold_no_secret_and_leave_the_worker_nothing_to_send()
    {
        var owner = await cluster.CreateDatabaseAsync("demonotify");
        await DemoData.SeedAsync(owner.ConnectionString, "pw-123456", TextWriter.Null);
        await using var conn = await Accounts.OpenAsync(owner);
        var channels = (await conn.QueryAsync<(string Name, string Kind, string Target, bool Enabled)>(
            "select name, kind, target, enabled from ops.notification_channels order by name")).ToList();
        Assert.Equal(["#ops-alerts (demo)", "Incident bridge (demo)", "On-call e-mail (demo)"], channels.Select(c => c.Name));
        Assert.All(channels, c => Assert.False(c.Enabled, c.Name));
        Assert.All(channels, c => Assert.All(c.Target.Split(", "), t => Assert.Matches(@"(^https://[a-z.]+\.invalid/|@example\.invalid$)", t)));
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("select count(*) from ops_private.notification_channel_secrets"));

        // The page has something to show: each channel's log, every status.
        Assert.Equal(["delivered", "failed", "unknown"], await conn.QueryAsync<string>("select distinct status from ops.notification_deliveries order by 1"));
        Assert.Equal(3L, await conn.ExecuteScalarAsync<long>("select count(distinct channel_id) from ops.notification_deliveries"));

        // A worker looking a day ahead finds nothing to send or to wait for.
        Assert.Empty(await conn.QueryAsync("select * from ops.claim_notification_deliveries(now() + interval '1 day', 100, 60, 8, '{}')"));
        Assert.Null(await conn.ExecuteScalarAsync<DateTime?>("select ops.next_notification_due(60)"));
    }
}
