using OdooOps.Metrics;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using OdooOps.Database;
using OdooOps.Scheduler;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Scheduler;

/// <summary>
/// The scheduler of `serve`: replicas on one database run each tick once, failures are recorded and retried, the
/// metric partition jobs keep the right days, and configuration is honoured or refused at start-up. Time is a
/// <see cref="ManualClock"/> (or a tick passed in directly), so nothing waits for real ticks.
/// </summary>
public sealed partial class SchedulerTests(PostgresCluster cluster)
{
    static readonly DateTimeOffset TenOClock = new(2031, 5, 10, 10, 0, 0, TimeSpan.Zero);

    sealed record Db(NpgsqlConnectionStringBuilder Owner, LoginRoles.Credentials Credentials);

    async Task<Db> NewDatabaseAsync(string prefix)
    {
        var owner = await cluster.CreateDatabaseAsync(prefix);
        return new Db(owner, await LoginRoles.EnsureAsync(owner));
    }

    /// <summary>A job that counts its runs (and may wait on a gate), for watching how often a tick really ran.</summary>
    sealed class ProbeJob(string name = "probe", string cron = "0 * * * *")
    {
        int _runs;
        public TaskCompletionSource? Gate { get; set; }
        public int Runs => Volatile.Read(ref _runs);

        public ScheduledJob Job => new(name, cron, async (_, ct) =>
        {
            Interlocked.Increment(ref _runs);
            if (Gate is { } gate) await gate.Task.WaitAsync(ct);
            return "probe ran";
        });
    }

    static async Task<List<(string Job, DateTime Tick, string Outcome, string? Detail)>> RunsAsync(Db db)
    {
        await using var conn = await Accounts.OpenAsync(db.Owner);
        return [.. await conn.QueryAsync<(string, DateTime, string, string?)>(
            "select job, scheduled_for, outcome, detail from ops.job_runs order by scheduled_for, job, id")];
    }

    static async Task<List<string>> PartitionDaysAsync(Db db, string like)
    {
        await using var conn = await Accounts.OpenAsync(db.Owner);
        return [.. await conn.QueryAsync<string>(
            "select substr(relname, 17) from pg_class where relnamespace = 'ops_partitions'::regnamespace and relkind = 'r' and relname like @like order by 1",
            new { like = "metric_samples_p" + like })];
    }

    /// <summary>Whether some session holds the advisory lock of (job, tick): bigint keys show in pg_locks as classid (high) and objid (low).</summary>
    static async Task<bool> TickLockHeldAsync(Db db, string job, DateTimeOffset tick)
    {
        var key = JobRunStore.LockKey(job, tick);
        await using var conn = await Accounts.OpenAsync(db.Owner);
        return await conn.ExecuteScalarAsync<bool>("""
            select exists (select 1 from pg_locks where locktype = 'advisory' and granted and objsubid = 1
                           and database = (select oid from pg_database where datname = current_database())
                           and classid::bigint = @high and objid::bigint = @low)
            """, new { high = (long)(uint)(key >> 32), low = (long)(uint)key });
    }

    [Fact]
    public async Task Two_replicas_driven_by_the_clock_run_each_job_once_per_tick_on_the_configured_cron()
    {
        var db = await NewDatabaseAsync("schedtwo");
        var clock = new ManualClock(TenOClock); // a tick of every job, but ticks start after the scheduler does
        var probe = new ProbeJob();
        // Seconds allowed; every cron here differs from its job's default, so a tick at a default time would show.
        var settings = new Dictionary<string, string?>
        {
            ["OPS_JOB_probe"] = "*/10 * * * * *",
            ["OPS_JOB_partition_maintenance"] = "*/20 * * * * *",
            ["OPS_JOB_retention"] = " */30 * * * * * ",
        };
        IReadOnlyList<ScheduledJob> jobs = [.. OdooOps.Server.ServerApp.Jobs, probe.Job];
        await using var a = new SchedulerNode(db.Credentials, clock, jobs, settings);
        await using var b = new SchedulerNode(db.Credentials, clock, jobs, settings);
        await a.Scheduler.StartAsync(CancellationToken.None);
        await b.Scheduler.StartAsync(CancellationToken.None);

        for (var step = 0; step < 6; step++)
        {
            // Every loop of both replicas parked on its next wait (one timer each) before the clock moves: a loop still
            // between reading the clock and arming its timer would arm it 10 s late and miss this tick.
            await clock.WaitForTimersAsync(2 * jobs.Count, SchedulerNode.Patience);
            clock.Advance(TimeSpan.FromSeconds(10));
            var now = clock.GetUtcNow();
            var due = a.Scheduler.Schedule.Entries.Where(e => e.FiresAt(now)).Select(e => e.Job.Name).Order().ToList();
            Assert.NotEmpty(due);
            var ticks = (await a.NextTicksAsync(due.Count)).Concat(await b.NextTicksAsync(due.Count)).ToList();
            Assert.All(ticks, t => Assert.Equal(now, t.Tick));
            foreach (var job in due)
            {
                // Both replicas took part in the tick; exactly one ran it.
                var outcomes = ticks.Where(t => t.Job == job).Select(t => t.Outcome).Order().ToList();
                Assert.Equal([TickOutcome.Success, TickOutcome.ClaimedElsewhere], outcomes);
            }
        }

        var expected = new List<(string, DateTime)>();
        for (var s = 10; s <= 60; s += 10) expected.Add(("probe", TenOClock.AddSeconds(s).UtcDateTime));
        foreach (var s in new[] { 20, 40, 60 }) expected.Add(("partition_maintenance", TenOClock.AddSeconds(s).UtcDateTime));
        foreach (var s in new[] { 30, 60 }) expected.Add(("retention", TenOClock.AddSeconds(s).UtcDateTime));
        expected.Add(("rollups", TenOClock.AddSeconds(60).UtcDateTime)); // its default, every minute
        foreach (var s in new[] { 30, 60 }) expected.Add(("runner_rescue", TenOClock.AddSeconds(s).UtcDateTime)); // every 30 s
        var runs = await RunsAsync(db);
        Assert.Equal(expected.OrderBy(e => e.Item2).ThenBy(e => e.Item1, StringComparer.Ordinal),
            runs.Select(r => (r.Job, r.Tick)).OrderBy(r => r.Tick).ThenBy(r => r.Job, StringComparer.Ordinal));
        Assert.All(runs, r => Assert.Equal("success", r.Outcome));
        Assert.Equal(6, probe.Runs);
    }

    [Fact]
    public async Task A_replica_racing_for_a_tick_or_arriving_after_it_ran_does_not_run_it_again()
    {
        var db = await NewDatabaseAsync("schedrace");
        var clock = new ManualClock(TenOClock);
        var probe = new ProbeJob();
        await using var a = new SchedulerNode(db.Credentials, clock, [probe.Job]);
        await using var b = new SchedulerNode(db.Credentials, clock, [probe.Job]);
        await using var late = new SchedulerNode(db.Credentials, clock, [probe.Job]);

        for (var hour = 1; hour <= 3; hour++)
        {
            var tick = TenOClock.AddHours(hour);
            probe.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var racing = new[] { a.Scheduler.RunTickAsync("probe", tick), b.Scheduler.RunTickAsync("probe", tick) };
            // The winner is held inside the job, so the first to finish must be the replica that was kept out.
            var first = await (await Task.WhenAny(racing).WaitAsync(SchedulerNode.Patience));
            Assert.Equal(TickOutcome.ClaimedElsewhere, first.Outcome);
            Assert.True(await TickLockHeldAsync(db, "probe", tick), "the running tick holds no advisory lock");
            probe.Gate.SetResult();
            Assert.Equal([TickOutcome.Success, TickOutcome.ClaimedElsewhere], (await Task.WhenAll(racing)).Select(r => r.Outcome).Order());
            // Lock released and the run finished: a replica that only now reaches the tick still finds it taken.
            Assert.Equal(TickOutcome.ClaimedElsewhere, (await late.Scheduler.RunTickAsync("probe", tick)).Outcome);
            Assert.False(await TickLockHeldAsync(db, "probe", tick), "the finished tick kept its advisory lock");
        }

        Assert.Equal(3, probe.Runs);
        var runs = await RunsAsync(db);
        Assert.Equal([1, 2, 3], runs.Select(r => (int)(r.Tick - TenOClock.UtcDateTime).TotalHours));
        Assert.All(runs, r => Assert.Equal(("probe", "success", "probe ran"), (r.Job, r.Outcome, r.Detail)));
    }

    [Fact]
    public async Task A_failing_job_is_logged_and_recorded_failed_the_others_still_run_and_the_next_tick_retries_it()
    {
        var db = await NewDatabaseAsync("schedfail");
        var clock = new ManualClock(TenOClock);
        var calls = 0;
        // Throws before returning a task at all on its first call: the worst-behaved kind of failure.
        var flaky = new ScheduledJob("flaky", "0 * * * *", (_, _) =>
            Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("disk on fire") : Task.FromResult("recovered"));
        await using var node = new SchedulerNode(db.Credentials, clock, [flaky, MetricJobs.PartitionMaintenance]);

        var first = await node.Scheduler.RunDueAsync(TenOClock);
        Assert.Equal([("flaky", TickOutcome.Failed), ("partition_maintenance", TickOutcome.Success)],
            first.Select(r => (r.Job, r.Outcome)).OrderBy(r => r.Job, StringComparer.Ordinal));
        var error = Assert.Single(node.Logs.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("flaky", error.Message);
        Assert.Contains("disk on fire", error.Message);
        Assert.Contains("InvalidOperationException", error.Exception);

        var second = await node.Scheduler.RunDueAsync(TenOClock.AddHours(1));
        Assert.All(second, r => Assert.Equal(TickOutcome.Success, r.Outcome));

        var runs = await RunsAsync(db);
        var hour = TenOClock.UtcDateTime;
        Assert.Contains(("flaky", hour, "failed", "disk on fire"), runs);
        Assert.Contains(("flaky", hour.AddHours(1), "success", "recovered"), runs);
        Assert.Equal(2, runs.Count(r => r.Job == "partition_maintenance" && r.Outcome == "success"));
        Assert.Equal(4, runs.Count);
    }

    [Fact]
    public async Task A_run_that_outlives_its_timeout_is_recorded_failed_even_when_it_ignores_cancellation()
    {
        var db = await NewDatabaseAsync("schedtimeout");
        var clock = new ManualClock(TenOClock);
        var never = new TaskCompletionSource<string>();
        // The job moves the clock past its own timeout and then hangs without looking at its token.
        var stuck = new ScheduledJob("stuck", "0 * * * *", (_, _) =>
        {
            clock.Advance(TimeSpan.FromSeconds(31));
            return never.Task;
        }) { Timeout = TimeSpan.FromSeconds(30) };
        await using var node = new SchedulerNode(db.Credentials, clock, [stuck]);

        var result = await node.Scheduler.RunTickAsync("stuck", TenOClock).WaitAsync(SchedulerNode.Patience);
        never.SetResult("too late");

        Assert.Equal((TickOutcome.Failed, "timed out after 30 s"), (result.Outcome, result.Detail));
        Assert.Equal([("stuck", TenOClock.UtcDateTime, "failed", "timed out after 30 s")], await RunsAsync(db));
        Assert.Contains(node.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("stuck") && e.Message.Contains("timed out"));
    }

    [Fact]
    public async Task Partition_maintenance_creates_yesterday_through_the_next_seven_days()
    {
        var db = await NewDatabaseAsync("schedparts");
        var clock = new ManualClock(TenOClock.AddMinutes(20));
        await using var node = new SchedulerNode(db.Credentials, clock, OdooOps.Server.ServerApp.Jobs);
        Assert.Empty(await PartitionDaysAsync(db, "2031%"));

        var result = await node.Scheduler.RunTickAsync("partition_maintenance", TenOClock);

        Assert.Equal((TickOutcome.Success, "9 partition(s) created; 2031-05-09..2031-05-17 present"), (result.Outcome, result.Detail));
        Assert.Equal([.. Enumerable.Range(9, 9).Select(d => $"203105{d:00}")], await PartitionDaysAsync(db, "2031%"));
    }

    [Theory]
    [InlineData(null, 6, "14")]
    [InlineData("5", 15, "5")]
    public async Task Retention_drops_only_the_partitions_older_than_the_configured_days(string? configured, int firstKeptDay, string days)
    {
        var db = await NewDatabaseAsync("schedretain");
        await using (var conn = await Accounts.OpenAsync(db.Owner))
            await conn.ExecuteAsync("select ops.ensure_metric_partitions(date '2001-03-01', 19)"); // 1st..19th of March
        var today = new DateTimeOffset(2001, 3, 20, 3, 30, 0, TimeSpan.Zero);
        var realToday = await PartitionDaysAsync(db, DateTime.UtcNow.ToString("yyyyMMdd"));
        await using var node = new SchedulerNode(db.Credentials, new ManualClock(today), OdooOps.Server.ServerApp.Jobs,
            new Dictionary<string, string?> { [MetricRetention.RawKey] = configured });

        var result = await node.Scheduler.RunTickAsync("retention", today);

        Assert.Equal(TickOutcome.Success, result.Outcome);
        Assert.Equal($"{firstKeptDay - 1} partition(s) before 2001-03-{firstKeptDay:00} dropped (retention {days} days); " +
            "0 minute rollup(s) before 2000-12-20 and 0 hour rollup(s) before 1999-03-21 deleted; 0 job run(s) before 2001-02-18 deleted", result.Detail);
        Assert.Equal([.. Enumerable.Range(firstKeptDay, 20 - firstKeptDay).Select(d => $"200103{d:00}")], await PartitionDaysAsync(db, "2001%"));
        Assert.Equal(realToday, await PartitionDaysAsync(db, DateTime.UtcNow.ToString("yyyyMMdd"))); // newer days untouched
        Assert.Single(realToday);
    }
}
