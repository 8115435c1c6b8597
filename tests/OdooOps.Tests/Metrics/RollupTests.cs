using Dapper;
using OdooOps.Tests.Infrastructure;
using Sample = OdooOps.Tests.Metrics.RollupDatabase.Sample;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// The rollups job: minute and hour buckets equal a direct aggregate over the raw samples (across minute and hour
/// edges, several branches and metrics), a fold takes only what arrived since the last one, late samples for an
/// already-rolled bucket are folded in, repeating a fold changes nothing, and an ingest still in flight when a fold
/// starts is waited for rather than skipped.
/// </summary>
public sealed class RollupTests(PostgresCluster cluster)
{
    /// <summary>An hour boundary two hours ago, so that samples around it are well inside retention.</summary>
    static readonly DateTime Edge = DateTime.UtcNow.Date.AddHours(DateTime.UtcNow.Hour - 2);

    static Sample At(string metric, double secondsFromEdge, double value, string? branch = null) =>
        new(metric, Edge.AddSeconds(secondsFromEdge), value, branch);

    /// <summary>Samples across a minute edge (…:59 / :00), the hour edge, two metrics and two branches; values exact in binary.</summary>
    static Sample[] AcrossEdges() =>
    [
        At("cpu_pct", -3600, 10), At("cpu_pct", -61, 12.5), At("cpu_pct", -60.5, 7), At("cpu_pct", -0.25, 40), At("cpu_pct", 0, 41.5),
        At("cpu_pct", 0.75, 3), At("cpu_pct", 59.999, 99), At("cpu_pct", 60, -1), At("cpu_pct", 3599.5, 60), At("cpu_pct", 3600, 61),
        At("cpu_pct", 0, 5, "staging"), At("cpu_pct", 30, 6, "staging"), At("mem_mb", -1, 1024), At("mem_mb", 1, 2048.5),
    ];

    [Fact]
    public async Task Minute_and_hour_rollups_equal_a_direct_aggregate_over_raw_samples()
    {
        await using var db = await RollupDatabase.CreateAsync(cluster);
        Assert.Equal(14, await db.IngestAsync(AcrossEdges()));

        var fold = await db.FoldAsync();

        Assert.Equal(14, fold.Samples);
        var minutes = await db.RollupsAsync("minute");
        Assert.Equal(await db.DirectAsync("minute"), minutes);
        Assert.Equal(await db.DirectAsync("hour"), await db.RollupsAsync("hour"));
        // Spot checks against hand-computed buckets, so that a wrong "direct" query cannot hide a wrong rollup.
        var edgeMinute = Assert.Single(minutes, b => b.Metric == "cpu_pct" && b.Branch == "main" && b.Start == Edge);
        Assert.Equal((3L, 41.5 + 3 + 99, 3.0, 99.0, 99.0, Edge.AddSeconds(59.999)),
            (edgeMinute.Count, edgeMinute.Sum, edgeMinute.Min, edgeMinute.Max, edgeMinute.Last, edgeMinute.LastTs));
        var hours = await db.RollupsAsync("hour");
        Assert.Equal([(Edge.AddHours(-1), 4L), (Edge, 5L), (Edge.AddHours(1), 1L)],
            hours.Where(b => b.Metric == "cpu_pct" && b.Branch == "main").Select(b => (b.Start, b.Count)));
    }

    [Fact]
    public async Task A_fold_takes_only_new_samples_and_late_ones_update_their_old_bucket()
    {
        await using var db = await RollupDatabase.CreateAsync(cluster);
        await db.IngestAsync(AcrossEdges());
        await db.FoldAsync();

        Assert.Equal(0, (await db.FoldAsync()).Samples);

        // Late: an hour and a half after the fact, into buckets that are already rolled, plus one new bucket a day back.
        var late = await db.IngestAsync(At("cpu_pct", 10, 1000), At("cpu_pct", -3599, 0.5), At("mem_mb", -86_400, 4));
        Assert.Equal(3, late);
        var fold = await db.FoldAsync();

        Assert.Equal(3, fold.Samples);
        Assert.Equal(3, fold.MinuteBuckets);
        Assert.Equal(await db.DirectAsync("minute"), await db.RollupsAsync("minute"));
        Assert.Equal(await db.DirectAsync("hour"), await db.RollupsAsync("hour"));
        var edgeMinute = Assert.Single(await db.RollupsAsync("minute"), b => b.Metric == "cpu_pct" && b.Branch == "main" && b.Start == Edge);
        Assert.Equal((4L, 1000.0, 99.0), (edgeMinute.Count, edgeMinute.Max, edgeMinute.Last));
    }

    [Fact]
    public async Task Folding_the_same_samples_again_does_not_count_them_twice()
    {
        await using var db = await RollupDatabase.CreateAsync(cluster);
        await db.IngestAsync(AcrossEdges());
        await db.FoldAsync();
        var before = await db.RollupsAsync("minute");

        await using (var conn = await Accounts.OpenAsync(db.Owner))
            await conn.ExecuteAsync("update ops_private.metric_rollup_state set folded_until = folded_until - interval '1 hour'");
        Assert.Equal(14, (await db.FoldAsync()).Samples);

        Assert.Equal(before, await db.RollupsAsync("minute"));
        Assert.Equal(await db.DirectAsync("hour"), await db.RollupsAsync("hour"));
    }

    [Fact]
    public async Task A_fold_waits_for_an_ingest_in_flight_instead_of_moving_past_it()
    {
        await using var db = await RollupDatabase.CreateAsync(cluster);
        await db.IngestAsync(At("cpu_pct", 0, 1));
        await db.FoldAsync();

        await using var slow = await db.Database.Service.OpenConnectionAsync();
        await using var tx = await slow.BeginTransactionAsync();
        Assert.Equal(1, await db.IngestAsync(slow, tx, At("cpu_pct", 5, 2))); // stamped, not yet committed
        var fold = db.FoldAsync();
        // Seen waiting on the ingest's lock, rather than given a fixed time that a busy machine may not reach it in.
        var waiting = false;
        await using (var watch = await Accounts.OpenAsync(db.Owner))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!fold.IsCompleted && DateTime.UtcNow < deadline)
            {
                waiting = await watch.ExecuteScalarAsync<bool>("""
                    select exists (select 1 from pg_stat_activity where datname = current_database()
                                      and wait_event_type = 'Lock' and query like '%metric_fold_cutoff%')
                    """);
                if (waiting) break;
                await Task.Delay(20);
            }
        }
        Assert.False(fold.IsCompleted, "the fold must wait for the uncommitted ingest");
        Assert.True(waiting, "the fold never waited on the ingest's lock");

        await tx.CommitAsync();
        Assert.Equal(1, (await fold.WaitAsync(TimeSpan.FromSeconds(60))).Samples);
        var edge = Assert.Single(await db.RollupsAsync("minute"));
        Assert.Equal((2L, 3.0), (edge.Count, edge.Sum));
    }

    [Fact]
    public async Task The_first_fold_of_a_database_with_history_takes_all_of_it_in_windows()
    {
        await using var db = await RollupDatabase.CreateAsync(cluster);
        await using (var conn = await Accounts.OpenAsync(db.Owner))
            // Samples received over the last two hours, as an older server without rollups would have stored them.
            await conn.ExecuteAsync("""
                insert into ops.metric_samples (project_id, branch_id, metric, ts, value, received_at)
                select @ProjectId, b.id, 'cpu_pct', now() - make_interval(mins => g), g, now() - make_interval(mins => g)
                  from ops.branches b, generate_series(1, 120) g where b.project_id = @ProjectId and b.name = 'main'
                """, new { db.ProjectId });

        var fold = await db.FoldAsync();

        Assert.Equal(120, fold.Samples);
        Assert.InRange(fold.Windows, 8, 10); // two hours in 15-minute windows
        Assert.Equal(await db.DirectAsync("minute"), await db.RollupsAsync("minute"));
        Assert.Equal(await db.DirectAsync("hour"), await db.RollupsAsync("hour"));
    }
}
