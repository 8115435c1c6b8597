using Dapper;
using Microsoft.Extensions.Configuration;
using OdooOps.Metrics;
using OdooOps.Scheduler;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Scheduler;

public sealed partial class SchedulerTests
{
    /// <summary>
    /// Minute rollups older than their retention (default 90 days, here 30) and hour rollups older than theirs (730,
    /// here 60) go; younger ones stay. More rows than one delete batch, so the job has to loop.
    /// </summary>
    [Theory]
    [InlineData(null, null, 90, 730)]
    [InlineData("30", "60", 30, 60)]
    public async Task Retention_deletes_rollups_older_than_their_own_retention_in_batches(string? minuteDays, string? hourDays, int keptMinutes, int keptHours)
    {
        var db = await NewDatabaseAsync("schedrollret");
        var today = new DateTimeOffset(2031, 5, 10, 3, 30, 0, TimeSpan.Zero);
        var org = await Accounts.CreateOrgAsync(db.Owner, "ret-org");
        var project = await Accounts.CreateProjectAsync(db.Owner, org, "ret-a");
        await using (var conn = await Accounts.OpenAsync(db.Owner))
            // One row per minute for the 12,000 minutes before each age boundary's day, and a day's worth after it.
            await conn.ExecuteAsync("""
                insert into ops.metric_rollups_minute (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
                select @project, b.id, 'cpu_pct', t, 1, 1, 1, 1, 1, t
                  from ops.branches b, generate_series(@minuteEdge - interval '12000 minutes', @minuteEdge + interval '1439 minutes', interval '1 minute') t
                 where b.project_id = @project and b.name = 'main';
                insert into ops.metric_rollups_hour (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
                select @project, b.id, 'cpu_pct', t, 60, 60, 1, 1, 1, t
                  from ops.branches b, generate_series(@hourEdge - interval '240 hours', @hourEdge + interval '23 hours', interval '1 hour') t
                 where b.project_id = @project and b.name = 'main';
                """, new { project, minuteEdge = today.UtcDateTime.Date.AddDays(-keptMinutes), hourEdge = today.UtcDateTime.Date.AddDays(-keptHours) });
        await using var node = new SchedulerNode(db.Credentials, new ManualClock(today), OdooOps.Server.ServerApp.Jobs,
            new Dictionary<string, string?> { [MetricRetention.MinuteKey] = minuteDays, [MetricRetention.HourKey] = hourDays });

        var result = await node.Scheduler.RunTickAsync("retention", today);

        Assert.Equal(TickOutcome.Success, result.Outcome);
        Assert.Contains($"12000 minute rollup(s) before {today.AddDays(-keptMinutes):yyyy-MM-dd} and 240 hour rollup(s) before {today.AddDays(-keptHours):yyyy-MM-dd} deleted", result.Detail);
        await using var check = await Accounts.OpenAsync(db.Owner);
        Assert.Equal((1440L, today.UtcDateTime.Date.AddDays(-keptMinutes)),
            await check.QuerySingleAsync<(long, DateTime)>("select count(*), min(bucket) from ops.metric_rollups_minute"));
        Assert.Equal((24L, today.UtcDateTime.Date.AddDays(-keptHours)),
            await check.QuerySingleAsync<(long, DateTime)>("select count(*), min(bucket) from ops.metric_rollups_hour"));
    }

    [Fact]
    public void Rollup_retention_shorter_than_the_resolution_it_is_computed_from_is_refused()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            { [MetricRetention.RawKey] = "20", [MetricRetention.MinuteKey] = "15" }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => { MetricRetention.From(config); });
        Assert.Equal("OPS_MINUTE_ROLLUP_RETENTION_DAYS (15) must be at least OPS_RAW_RETENTION_DAYS (20): minute rollups are recomputed from raw samples.", e.Message);
        config["OPS_MINUTE_ROLLUP_RETENTION_DAYS"] = "100";
        config["OPS_HOUR_ROLLUP_RETENTION_DAYS"] = "99";
        Assert.StartsWith("OPS_HOUR_ROLLUP_RETENTION_DAYS (99) must be at least", Assert.Throws<InvalidOperationException>(() => { MetricRetention.From(config); }).Message);
    }
}
