using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Dispatch;

/// <summary>
/// ops.rescue_build_leases, the `runner_rescue` job's work, on each kind of lease that ran out: re-queued as the next
/// attempt, failed as "runner lost" after the last attempt, cancelled when a cancel was pending — and a lease still
/// running is left alone. Each outcome is written into the build's log.
/// </summary>
public sealed class LeaseRescueTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    async Task ExpireAsync(Guid build)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        await conn.ExecuteAsync("update ops.run_queue set lease_until = now() - interval '1 second' where build_id = @build", new { build });
    }

    async Task<(int Requeued, int Failed, int Cancelled)> RescueAsync()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.QuerySingleAsync<(int, int, int)>("select requeued, failed, cancelled from ops.rescue_build_leases()");
    }

    [Fact]
    public async Task After_the_last_attempt_a_lost_build_fails_as_runner_lost()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync("unlucky", 1);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var job = Assert.Single(await runner.NextAsync(1, 0, default));
            Assert.Equal(attempt, job.Attempt);
            await ExpireAsync(build);
            Assert.Equal(attempt < 3 ? (1, 0, 0) : (0, 1, 0), await RescueAsync());
        }

        var row = await _world.BuildAsync(build);
        Assert.Equal(("failed", "runner lost", 3), (row.Status, row.ResultDetail, row.Attempt));
        var log = await _world.LogAsync(build);
        Assert.Contains(log, l => l.StartsWith("system: Attempt 2 lost its runner", StringComparison.Ordinal));
        Assert.Contains(log, l => l.StartsWith("system: Attempt 3 lost its runner", StringComparison.Ordinal) && l.Contains("runner lost"));
        Assert.Empty(await runner.NextAsync(1, 0, default)); // out of the queue for good
    }

    [Fact]
    public async Task A_lost_build_with_a_pending_cancel_is_cancelled_not_requeued()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync("cancelled-then-lost");
        Assert.Single(await runner.NextAsync(1, 0, default));
        using (var api = await _world.OwnerApiAsync())
            Assert.True((await api.PostAsync($"/api/ops/builds/{build}/cancel", null)).IsSuccessStatusCode);
        await ExpireAsync(build);

        Assert.Equal((0, 0, 1), await RescueAsync());
        var row = await _world.BuildAsync(build);
        Assert.Equal("cancelled", row.Status);
        Assert.Contains("did not confirm", row.ResultDetail);
        Assert.Contains(await _world.LogAsync(build), l => l.Contains("the build is cancelled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_build_handed_back_by_a_stopping_runner_is_queued_at_once_without_using_up_an_attempt()
    {
        var build = await _world.QueueBuildAsync();
        using var stopping = await _world.ClientAsync("stopping");
        var job = Assert.Single(await stopping.NextAsync(1, 0, default));
        await stopping.StepAsync(job, 0, new OdooOps.Runners.Protocol.RunnerProtocol.StepRequest(null, "half-done", "running", null, null, null), default);

        Assert.Equal("queued", await stopping.ReleaseAsync(job, "deploying a new version", default));
        Assert.Empty(await _world.StepsAsync(build)); // the unfinished attempt's steps are gone, its log stays
        await Assert.ThrowsAsync<OdooOps.Runners.Agent.LeaseLostException>(() => stopping.ReleaseAsync(job, "again", default));
        await Assert.ThrowsAsync<OdooOps.Runners.Agent.LeaseLostException>(() => stopping.DoneAsync(job, "success", null, default));

        using var next = await _world.ClientAsync("next");
        var retry = Assert.Single(await next.NextAsync(1, 0, default));
        Assert.Equal((build, 1), (retry.BuildId, retry.Attempt));
        Assert.Contains(await _world.LogAsync(build), l => l == "system: Attempt 1 handed back by its runner (deploying a new version); queued again, the attempt does not count.");
    }

    [Fact]
    public async Task A_build_handed_back_with_a_cancel_pending_is_cancelled()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync("stopping-cancelled");
        var job = Assert.Single(await runner.NextAsync(1, 0, default));
        using (var api = await _world.OwnerApiAsync())
            Assert.True((await api.PostAsync($"/api/ops/builds/{build}/cancel", null)).IsSuccessStatusCode);

        Assert.Equal("cancelled", await runner.ReleaseAsync(job, "stopping", default));
        Assert.Equal("cancelled", (await _world.BuildAsync(build)).Status);
        Assert.Empty(await runner.NextAsync(1, 0, default));
    }

    [Fact]
    public async Task A_lease_that_is_still_running_is_left_alone()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync("alive");
        var job = Assert.Single(await runner.NextAsync(1, 0, default));

        Assert.Equal((0, 0, 0), await RescueAsync());
        Assert.Equal(("running", 1), ((await _world.BuildAsync(build)).Status, (await _world.BuildAsync(build)).Attempt));
        Assert.False((await runner.ExtendAsync(job, default)).CancelRequested); // the lease is still this runner's
    }
}
