using Dapper;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Builds;

/// <summary>
/// The build_log_retention job on a test clock (finished times set explicitly, no sleeps): logs of builds finished
/// longer ago than OPS_BUILD_LOG_RETENTION_DAYS go, in batches, each leaving one system line; recent logs and the
/// newest finished and newest successful build of each branch keep theirs; a second run changes nothing.
/// </summary>
public sealed class BuildLogRetentionTests(PostgresCluster cluster)
{
    static readonly DateTimeOffset Today = new(2031, 5, 10, 3, 45, 0, TimeSpan.Zero);

    sealed record Kept(string Name, long Lines, DateTime? PrunedAt, string First);

    [Theory]
    [InlineData(null, 90)]
    [InlineData("30", 30)]
    public async Task Logs_of_builds_finished_before_the_retention_are_deleted_in_batches_and_the_ones_people_open_stay(string? setting, int days)
    {
        var owner = await cluster.CreateDatabaseAsync("buildlogret");
        var credentials = await LoginRoles.EnsureAsync(owner);
        var org = await Accounts.CreateOrgAsync(owner, "ret");
        var project = await Accounts.CreateProjectAsync(owner, org, "erp");
        var builds = new Dictionary<string, Guid>();
        await using (var conn = await Accounts.OpenAsync(owner))
        {
            // (name, branch, status, finished days before today, lines); created a minute before finishing, in this order.
            var rows = new (string Name, string Branch, string Status, int? Age, int Lines)[]
            {
                ("old-success", "main", "success", days + 110, 25_000), // more lines than one delete batch
                ("old-failed", "main", "failed", days + 10, 3),
                ("newest-success", "main", "success", days + 5, 2),   // main's newest successful build: kept
                ("newest-finished", "main", "failed", days + 1, 2),    // main's newest finished build: kept
                ("old-feature", "feature-x", "success", days + 30, 4),
                ("recent", "feature-x", "success", days - 1, 5),        // within the retention: kept
                ("running", "feature-x", "running", null, 6),
            };
            foreach (var (name, branch, status, age, lines) in rows)
            {
                var finished = age is { } a ? Today.AddDays(-a) : (DateTimeOffset?)null;
                builds[name] = await conn.ExecuteScalarAsync<Guid>("""
                    insert into ops.builds (project_id, branch_id, status, trigger, created_at, queued_at, started_at, finished_at)
                    select @project, id, @status, 'push', @created, @created, @created, @finished from ops.branches where project_id = @project and name = @branch
                    returning id
                    """, new { project, branch, status, finished, created = (finished ?? Today).AddMinutes(-1) });
                await conn.ExecuteAsync("""
                    insert into ops.build_logs (build_id, project_id, seq, stream, line)
                    select @id, @project, s, 'stdout', 'line ' || s from generate_series(0, @lines - 1) s
                    """, new { id = builds[name], project, lines });
            }
        }
        await using var node = new SchedulerNode(credentials, new ManualClock(Today), OdooOps.Server.ServerApp.Jobs,
            new Dictionary<string, string?> { [BuildLogRetentionJob.RetentionKey] = setting });

        var result = await node.Scheduler.RunTickAsync("build_log_retention", Today);

        Assert.Equal(TickOutcome.Success, result.Outcome);
        Assert.Equal($"25007 log line(s) of 3 build(s) finished before {Today.AddDays(-days):yyyy-MM-dd} deleted (retention {days} days)", result.Detail);
        var note = $"The log of this build was deleted on 2031-05-10: build logs are kept {days} days after the build finished (OPS_BUILD_LOG_RETENTION_DAYS).";
        async Task<Dictionary<string, Kept>> StateAsync()
        {
            await using var conn = await Accounts.OpenAsync(owner);
            var state = new Dictionary<string, Kept>();
            foreach (var (name, id) in builds)
                state[name] = await conn.QuerySingleAsync<Kept>("""
                    select @name as name, (select count(*) from ops.build_logs where build_id = b.id) as lines, b.log_pruned_at as prunedat,
                           (select stream || ': ' || line from ops.build_logs where build_id = b.id order by seq limit 1) as first
                      from ops.builds b where b.id = @id
                    """, new { name, id });
            return state;
        }
        var after = await StateAsync();
        foreach (var pruned in new[] { "old-success", "old-failed", "old-feature" })
        {
            Assert.Equal(1, after[pruned].Lines);
            Assert.Equal($"system: {note}", after[pruned].First);
            Assert.NotNull(after[pruned].PrunedAt);
        }
        foreach (var (kept, lines) in new[] { ("newest-success", 2), ("newest-finished", 2), ("recent", 5), ("running", 6) })
            Assert.Equal(new Kept(kept, lines, null, "stdout: line 0"), after[kept]);

        // Nothing left to do: a second run deletes nothing and keeps the notes.
        var again = await node.Scheduler.RunTickAsync("build_log_retention", Today.AddDays(1));
        Assert.StartsWith("0 log line(s) of 0 build(s)", again.Detail);
        Assert.Equal(after.Values.Select(k => (k.Name, k.Lines, k.First)), (await StateAsync()).Values.Select(k => (k.Name, k.Lines, k.First)));
    }
}
