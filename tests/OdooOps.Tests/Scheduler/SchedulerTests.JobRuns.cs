using Dapper;
using OdooOps.Scheduler;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Scheduler;

public sealed partial class SchedulerTests
{
    /// <summary>
    /// A node that died mid-run left its run 'running'; nobody holds that tick's lock any more, so the sweep closes it
    /// as failed. A run whose node is alive (its lock held) and a run younger than the sweep interval stay as they are.
    /// </summary>
    [Fact]
    public async Task Runs_left_running_by_a_dead_node_are_closed_and_live_ones_are_not()
    {
        var db = await NewDatabaseAsync("schedsweep");
        var now = new DateTimeOffset(2031, 5, 10, 10, 0, 0, TimeSpan.Zero);
        var live = now.AddMinutes(-9);
        await using var conn = await Accounts.OpenAsync(db.Owner);
        await conn.ExecuteAsync("""
            insert into ops.job_runs (job, node, scheduled_for, started_at) values
                ('rollups', 'dead:1', @dead, @dead), ('rollups', 'alive:2', @live, @live), ('rollups', 'fresh:3', @fresh, @fresh)
            """, new { dead = now.AddMinutes(-10).UtcDateTime, live = live.UtcDateTime, fresh = now.AddSeconds(-5).UtcDateTime });
        // The live node's session holds its tick's lock, as TickClaim does while the job runs.
        await using var liveNode = await Accounts.OpenAsync(db.Owner);
        Assert.True(await liveNode.ExecuteScalarAsync<bool>("select pg_try_advisory_lock(@key)", new { key = JobRunStore.LockKey("rollups", live) }));

        await using var node = new SchedulerNode(db.Credentials, new ManualClock(now), OdooOps.Server.ServerApp.Jobs);
        Assert.Equal(1, await node.Scheduler.SweepAbandonedRunsAsync());

        var runs = (await conn.QueryAsync<(string Node, string Outcome, string? Detail, DateTime? FinishedAt)>(
            "select node, outcome, detail, finished_at from ops.job_runs order by node")).ToList();
        Assert.Equal(("alive:2", "running"), (runs[0].Node, runs[0].Outcome));
        Assert.Equal(("dead:1", "failed"), (runs[1].Node, runs[1].Outcome));
        Assert.StartsWith("abandoned", runs[1].Detail);
        Assert.NotNull(runs[1].FinishedAt);
        Assert.Equal(("fresh:3", "running"), (runs[2].Node, runs[2].Outcome));
        Assert.False(await TickLockHeldAsync(db, "rollups", now.AddMinutes(-10)), "the sweep let go of the lock it took");
        Assert.Equal(0, await node.Scheduler.SweepAbandonedRunsAsync()); // nothing twice
    }

    [Theory]
    [InlineData(null, 30)]
    [InlineData("7", 7)]
    public async Task Retention_deletes_finished_job_runs_older_than_their_retention(string? configured, int days)
    {
        var db = await NewDatabaseAsync("schedrunret");
        var today = new DateTimeOffset(2031, 5, 10, 3, 30, 0, TimeSpan.Zero);
        var edge = today.UtcDateTime.Date.AddDays(-days);
        await using (var conn = await Accounts.OpenAsync(db.Owner))
            await conn.ExecuteAsync("""
                insert into ops.job_runs (job, node, scheduled_for, started_at, finished_at, outcome)
                select 'rollups', 'n', t, t, t, 'success' from generate_series(@edge - interval '3 days', @edge + interval '3 days', interval '1 day') t;
                insert into ops.job_runs (job, node, scheduled_for, started_at, outcome) values ('advisory_scan', 'n', @old, @old, 'running');
                """, new { edge, old = edge.AddDays(-100) });
        await using var node = new SchedulerNode(db.Credentials, new ManualClock(today), OdooOps.Server.ServerApp.Jobs,
            new Dictionary<string, string?> { [JobRunStore.RetentionKey] = configured });

        var result = await node.Scheduler.RunTickAsync("retention", today);

        Assert.Equal(TickOutcome.Success, result.Outcome);
        Assert.EndsWith($"3 job run(s) before {edge:yyyy-MM-dd} deleted", result.Detail);
        await using var check = await Accounts.OpenAsync(db.Owner);
        Assert.Equal(edge, await check.ExecuteScalarAsync<DateTime>("select min(started_at) from ops.job_runs where job = 'rollups'"));
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("select count(*) from ops.job_runs where job = 'advisory_scan'")); // never a running one
    }

    [Fact]
    public async Task A_bad_job_run_retention_stops_the_start_naming_the_key()
    {
        var db = await NewDatabaseAsync("schedrunbad");
        var e = Assert.ThrowsAny<Exception>(() => new SchedulerNode(db.Credentials, new ManualClock(TenOClock), OdooOps.Server.ServerApp.Jobs,
            new Dictionary<string, string?> { [JobRunStore.RetentionKey] = "0" }));
        Assert.Contains(JobRunStore.RetentionKey, e.Message);
    }
}
