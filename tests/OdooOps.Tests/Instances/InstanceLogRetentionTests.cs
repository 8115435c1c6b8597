using Dapper;
using Microsoft.Extensions.Configuration;
using OdooOps.Database;
using OdooOps.Instances;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The instance_log_retention job on a test clock: lines older than OPS_INSTANCE_LOG_RETENTION_DAYS go, and of each
/// instance only the newest OPS_INSTANCE_LOG_MAX_LINES stay (the oldest go first), in batches; a second run deletes nothing.
/// </summary>
public sealed class InstanceLogRetentionTests(PostgresCluster cluster)
{
    static readonly DateTimeOffset Now = new(2031, 5, 10, 3, 50, 0, TimeSpan.Zero);

    [Fact]
    public async Task Old_lines_and_lines_beyond_the_cap_are_deleted_oldest_first_in_batches()
    {
        var owner = await cluster.CreateDatabaseAsync("instlogret");
        var credentials = await LoginRoles.EnsureAsync(owner);
        var org = await Accounts.CreateOrgAsync(owner, "ret");
        var project = await Accounts.CreateProjectAsync(owner, org, "erp");
        var busy = await InstanceRows.InsertAsync(owner, project, "main");     // 25,000 recent lines: 23,000 past the cap of 2,000
        var aged = await InstanceRows.InsertAsync(owner, project, "staging");  // 12,000 lines of 20 days ago, 10 of yesterday
        var quiet = await InstanceRows.InsertAsync(owner, project, "feature-x"); // 50 recent lines: kept
        await InstanceRows.ExecuteAsync(owner, """
            insert into ops.instance_logs (instance_id, project_id, seq, ts, level, line)
            select @busy, @project, s, @now - interval '1 hour' + make_interval(secs => s / 100.0), 'INFO', 'busy ' || s from generate_series(0, 24999) s;
            insert into ops.instance_logs (instance_id, project_id, seq, ts, level, line)
            select @aged, @project, s, case when s < 12000 then @now - interval '20 days' else @now - interval '1 day' end, 'INFO', 'aged ' || s
              from generate_series(0, 12009) s;
            insert into ops.instance_logs (instance_id, project_id, seq, ts, level, line)
            select @quiet, @project, s, @now - interval '2 hours', 'INFO', 'quiet ' || s from generate_series(0, 49) s;
            """, new { busy, aged, quiet, project, now = Now });

        await using var node = new SchedulerNode(credentials, new ManualClock(Now), OdooOps.Server.ServerApp.Jobs,
            new Dictionary<string, string?> { [InstanceLogRetentionJob.MaxLinesKey] = "2000" });
        var result = await node.Scheduler.RunTickAsync("instance_log_retention", Now);

        Assert.Equal(TickOutcome.Success, result.Outcome);
        Assert.Equal("35000 instance log line(s) deleted (older than 14 days, or beyond 2000 lines of an instance)", result.Detail);
        await using (var conn = await Accounts.OpenAsync(owner))
        {
            var left = (await conn.QueryAsync<(Guid Id, long Count, long First, long Last)>(
                "select instance_id, count(*), min(seq), max(seq) from ops.instance_logs group by instance_id")).ToDictionary(r => r.Id);
            Assert.Equal((2000L, 23000L, 24999L), (left[busy].Count, left[busy].First, left[busy].Last));
            Assert.Equal((10L, 12000L, 12009L), (left[aged].Count, left[aged].First, left[aged].Last));
            Assert.Equal((50L, 0L, 49L), (left[quiet].Count, left[quiet].First, left[quiet].Last));
        }

        var again = await node.Scheduler.RunTickAsync("instance_log_retention", Now.AddHours(1));
        Assert.StartsWith("0 instance log line(s) deleted", again.Detail);
    }

    [Fact]
    public async Task A_bad_setting_stops_the_server_with_the_key_named()
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [InstanceLogRetentionJob.MaxLinesKey] = "10" }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => { InstanceLogRetentionJob.Job.CheckSettings!(config); });
        Assert.Contains(InstanceLogRetentionJob.MaxLinesKey, e.Message);
    }
}
