using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Advisories;

/// <summary>A server whose OPS_ADVISORY_* settings differ from the defaults.</summary>
public sealed class TunedAdvisoryWorld(PostgresCluster cluster) : AdvisoryWorld(cluster)
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["OPS_ADVISORY_CPU_HIGH_PCT"] = "50",
        ["OPS_ADVISORY_SUPPORTED_RUNTIMES"] = "15.0,16.0,17.0",
        ["OPS_ADVISORY_QUEUE_STUCK_MINUTES"] = "5",
    };
}

/// <summary>The thresholds come from configuration: the same data judged against other limits.</summary>
public sealed class AdvisoryThresholdTests(TunedAdvisoryWorld world) : IClassFixture<TunedAdvisoryWorld>
{
    [Fact]
    public async Task Configured_thresholds_replace_the_defaults()
    {
        var project = await world.NewProjectAsync();
        var main = await world.BranchAsync(project, "main");
        var feature = await world.BranchAsync(project, "feature-x");
        await world.Execute("""
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select @project, @main, 'cpu_pct', now() - make_interval(mins => i), 60 from generate_series(1, 5) i;
            insert into ops.builds (project_id, branch_id, commit_sha, queued_at) values (@project, @feature, 'abc123', now() - interval '10 minutes');
            update ops.projects set runtime_version = 'saas-15.2' where id = @project;
            """, new { project, main, feature });

        var answer = await world.ScanAsync(project);
        Assert.Equal(2, answer.GetProperty("advisories_created").GetInt32());
        Assert.Contains("CPU averaged 60.0% over the last 15 minutes (5 samples; threshold 50%)", Assert.Single(await world.AdvisoriesAsync(project, "cpu_high")).Detail);
        Assert.Contains("queued for more than 5 minutes", Assert.Single(await world.AdvisoriesAsync(project, "build_queue_stuck")).Detail);
        Assert.Empty(await world.AdvisoriesAsync(project, "runtime_unsupported")); // saas-15.2 is major 15, among the three newest

        await world.Execute("update ops.projects set runtime_version = '14.0' where id = @project", new { project });
        await world.ScanAsync(project);
        Assert.Contains("supported are the three newest majors: 15.0, 16.0, 17.0", Assert.Single(await world.AdvisoriesAsync(project, "runtime_unsupported")).Detail);
    }
}
