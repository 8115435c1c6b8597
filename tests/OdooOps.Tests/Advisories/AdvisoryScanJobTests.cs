using Dapper;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Scheduler;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Advisories;

/// <summary>The advisory scan is scheduled (known issue 3): the server's scheduler runs it and records the run.</summary>
public sealed class AdvisoryScanJobTests(PostgresCluster cluster)
{
    [Fact]
    public async Task The_scheduler_runs_the_scan_every_five_minutes_and_records_it()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster, "scanjob",
            new Dictionary<string, string?> { ["OPS_JOB_advisory_scan"] = "" }); // the job's own cron, which test servers turn off
        var org = await Accounts.CreateOrgAsync(factory.Owner, "scanjob");
        var project = await Accounts.CreateProjectAsync(factory.Owner, org, "no-prod", withBranches: false);
        _ = factory.Server; // start the host
        var scheduler = factory.Services.GetRequiredService<SchedulerService>();

        var entry = Assert.Single(scheduler.Schedule.Entries, e => e.Job.Name == "advisory_scan");
        var tick = new DateTimeOffset(2026, 1, 1, 0, 5, 0, TimeSpan.Zero);
        Assert.True(entry.FiresAt(tick));
        Assert.False(entry.FiresAt(tick.AddMinutes(1)));

        var results = await scheduler.RunDueAsync(tick);
        var run = Assert.Single(results, r => r.Job == "advisory_scan");
        Assert.Equal(SchedulerService.TickOutcome.Success, run.Outcome);
        Assert.Contains("scanned", run.Detail);

        await using var conn = await Accounts.OpenAsync(factory.Owner);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.advisories where project_id = @project and rule = 'no_production_branch' and status = 'open'", new { project }));
        Assert.Equal("success", await conn.ExecuteScalarAsync<string>(
            "select outcome from ops.job_runs where job = 'advisory_scan' and scheduled_for = @tick", new { tick }));
    }
}
