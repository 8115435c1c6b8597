using System.Text.Json;
using Dapper;
using OdooOps.Tests.Deployments;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// instance.down is debounced: the runner's sync (its real function) reports a branch's instance down, and the worker
/// announces it only once it has stayed down past the grace (OPS_NOTIFY_DOWN_GRACE_SECONDS, 60 s) — on a manual clock
/// started at the moment it went down, so time passes only when the test says. An instance flapping between unhealthy
/// and running sends nothing; instance.recovered follows only a down that was sent.
/// </summary>
public sealed class NotificationDownTests(PostgresCluster cluster) : IAsyncLifetime
{
    NotificationBench _b = null!;
    HookReceiver _hooks = null!;
    Guid _runner;
    DeploymentRows.Release _release = null!;

    public async ValueTask InitializeAsync()
    {
        _b = await NotificationBench.StartAsync(cluster);
        _hooks = await HookReceiver.StartAsync();
        await _b.ChannelAsync(_hooks, "on call", ["instance.down", "instance.recovered"]);
        _runner = await DeploymentRows.RunnerAsync(_b.Owner, _b.Org, "host-1");
        _release = await DeploymentRows.ReleaseAsync(_b.Owner, _b.Project, "main", _runner);
    }

    public async ValueTask DisposeAsync()
    {
        await _hooks.DisposeAsync();
        await _b.DisposeAsync();
    }

    Task SyncAsync(string state, string? reason = null) => _b.ExecuteAsync("select count(*) from ops.sync_runner_instances(@runner, null, @reports::jsonb)", new
    {
        runner = _runner,
        reports = JsonSerializer.Serialize(new[] { new { instance_id = _release.InstanceId, state, reason, http_port = 20001, restarts = 1 } }),
    });

    async Task<DateTimeOffset> DownSinceAsync() =>
        new(DateTime.SpecifyKind(await _b.ScalarAsync<DateTime>("select since from ops_private.notification_down_branches"), DateTimeKind.Utc));

    Task<long> DeliveriesAsync() => _b.ScalarAsync<long>("select count(*) from ops.notification_deliveries");

    [Fact]
    public async Task An_instance_flapping_between_unhealthy_and_running_sends_nothing()
    {
        await SyncAsync("unhealthy", "health check failed");
        var clock = new ManualClock(await DownSinceAsync());
        var worker = _b.Worker(clock: clock);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));
        await SyncAsync("running");
        await SyncAsync("failed", "crashed");
        await SyncAsync("running");
        await SyncAsync("unhealthy", "health check failed");
        await SyncAsync("running");

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));
        Assert.Equal(0L, await DeliveriesAsync());
        Assert.Empty(_hooks.All);
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops_private.notification_down_branches"));
    }

    [Fact]
    public async Task An_instance_down_past_the_grace_is_announced_once_and_its_recovery_after_it()
    {
        await SyncAsync("unhealthy", "3 health checks on /web/health failed in a row");
        var since = await DownSinceAsync();
        // The worker sleeps until the grace ends, not a sweep longer.
        Assert.Equal((since + TimeSpan.FromSeconds(60)).UtcDateTime, await _b.ScalarAsync<DateTime>("select ops.next_notification_due(60)"),
            TimeSpan.FromMilliseconds(1));
        var clock = new ManualClock(since + TimeSpan.FromSeconds(59));
        var worker = _b.Worker(clock: clock);
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));
        Assert.Empty(_hooks.All);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await worker.RunOnceAsync(CancellationToken.None));
        var down = Assert.Single(_hooks.All);
        Assert.Equal("instance.down", down.Header("X-OdooOps-Event"));
        Assert.Equal(_release.InstanceId, down.Json.GetProperty("instance").GetProperty("id").GetGuid());
        Assert.Equal("Project erp: the production instance of main is down (unhealthy): 3 health checks on /web/health failed in a row",
            down.Json.GetProperty("summary").GetString());

        await SyncAsync("failed", "crashed 5 times within 10 minutes"); // still down: not announced again
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));

        await SyncAsync("running");
        Assert.Equal(1, await worker.RunOnceAsync(CancellationToken.None));
        Assert.Equal(["instance.down", "instance.recovered"], _hooks.All.Select(h => h.Header("X-OdooOps-Event")));
        var recovered = _hooks.All[1].Json.GetProperty("instance");
        Assert.Equal("running", recovered.GetProperty("state").GetString());
        Assert.True(recovered.GetProperty("down_seconds").GetInt64() >= 0);
        Assert.Equal(2L, await DeliveriesAsync());
    }

    [Fact]
    public async Task A_branch_stopped_on_purpose_or_replaced_by_a_new_release_during_its_grace_is_forgotten()
    {
        await SyncAsync("failed", "crashed");
        var clock = new ManualClock(await DownSinceAsync());
        await _b.ExecuteAsync("update ops.instances set desired = 'stopped' where id = @InstanceId", new { _release.InstanceId });
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await _b.Worker(clock: clock).RunOnceAsync(CancellationToken.None));

        await _b.ExecuteAsync("update ops.instances set desired = 'running' where id = @InstanceId", new { _release.InstanceId });
        await SyncAsync("failed", "crashed again");
        clock = new ManualClock(await DownSinceAsync());
        await DeploymentRows.ReleaseAsync(_b.Owner, _b.Project, "main", _runner); // a fix goes live before the grace ends
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await _b.Worker(clock: clock).RunOnceAsync(CancellationToken.None));
        Assert.Equal(0L, await DeliveriesAsync());
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops_private.notification_down_branches"));
        Assert.Null(await _b.ScalarAsync<DateTime?>("select ops.next_notification_due(60)"));
    }
}
