using OdooOps.Tests.Advisories;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.Backups;

/// <summary>
/// The backups' advisories through the advisory scan, so that nothing about a backup fails silently: backup_failed (the
/// latest daily backup of production failed), backup_missing (no succeeded daily backup of a served production branch
/// for 26 hours), backup_verification_failed (the newest checked backup of a branch did not prove restorable; critical
/// on production). Each opens with the reason and the measured value, refreshes rather than duplicates, and resolves by
/// itself when a later backup succeeds or verifies.
/// </summary>
public sealed class BackupAdvisoryTests(AdvisoryWorld world) : IClassFixture<AdvisoryWorld>
{
    /// <summary>A backup of the branch (by variable name in the SQL) of a kind, status and verification, hours ago.</summary>
    static string Backup(string branch, string kind, string status, double hoursAgo, string verification = "pending", string? reason = null) => $"""
        insert into ops.backups (project_id, branch_id, kind, status, reason, verification, verification_reason, created_at, finished_at)
        values (@project, {branch}, '{kind}', '{status}', {(status == "failed" ? $"'{reason}'" : "null")}, '{verification}',
                {(verification == "failed" ? $"'{reason}'" : "null")}, now() - interval '{hoursAgo} hours', now() - interval '{hoursAgo} hours');
        """;

    sealed record Subject(Guid Project, Guid Main, Guid Staging, object Args);

    async Task<Subject> ProjectAsync()
    {
        var project = await world.NewProjectAsync();
        var (main, staging) = (await world.BranchAsync(project, "main"), await world.BranchAsync(project, "staging"));
        return new(project, main, staging, new { project, main, staging });
    }

    async Task<AdvisoryWorld.Row> OpenAsync(Guid project, string rule) =>
        Assert.Single(await world.AdvisoriesAsync(project, rule), a => a.Status == "open");

    async Task AssertResolvesAsync(Guid project, string rule, string clearSql, object args)
    {
        await world.Execute(clearSql, args);
        await world.ScanAsync(project);
        Assert.DoesNotContain(await world.AdvisoriesAsync(project, rule), a => a.Status == "open");
        Assert.Contains(await world.AdvisoriesAsync(project, rule), a => a.Status == "resolved" && a.ResolvedAt is not null);
    }

    [Fact]
    public async Task A_failed_daily_backup_opens_backup_failed_with_its_reason_until_a_later_one_succeeds()
    {
        var (project, main, staging, args) = await ProjectAsync();
        await world.Execute(Backup("@main", "daily", "succeeded", 72) + Backup("@main", "daily", "failed", 48, reason: "pg_dump: connection refused")
                            + Backup("@main", "daily", "failed", 24, reason: "No space left on device") + Backup("@main", "daily", "pending", 0.1), args);
        var first = await world.ScanAsync(project);
        var advisory = await OpenAsync(project, "backup_failed");
        Assert.Equal(("critical", "Daily backup of main failed", 2d), (advisory.Severity, advisory.Title, advisory.MeasuredValue));
        Assert.Contains("failed: No space left on device. 2 daily backup(s) in a row failed.", advisory.Detail);
        Assert.Equal(0, (await world.ScanAsync(project)).GetProperty("advisories_created").GetInt32());
        Assert.Equal(advisory.Id, (await OpenAsync(project, "backup_failed")).Id);
        Assert.True(first.GetProperty("advisories_created").GetInt32() >= 1);

        // A failed manual backup or one still pending does not resolve it; a succeeded daily one does.
        await world.Execute(Backup("@main", "manual", "succeeded", 0.05), args);
        await world.ScanAsync(project);
        Assert.Equal(advisory.Id, (await OpenAsync(project, "backup_failed")).Id);
        await AssertResolvesAsync(project, "backup_failed", Backup("@main", "daily", "succeeded", 0.01), args);
    }

    [Fact]
    public async Task A_served_production_branch_without_a_daily_backup_for_26_hours_opens_backup_missing()
    {
        var (project, main, staging, args) = await ProjectAsync();
        var instance = await InstanceRows.InsertAsync(world.Owner, project, "main");
        await world.Execute("update ops.instances set created_at = now() - interval '40 hours' where id = @instance", new { instance });
        await world.Execute(Backup("@main", "daily", "succeeded", 30) + Backup("@main", "daily", "failed", 6, reason: "runner lost")
                            + Backup("@main", "manual", "succeeded", 2), args);
        // A staging branch is not backed up daily: nothing about it.
        var stagingInstance = await InstanceRows.InsertAsync(world.Owner, project, "staging");
        await world.Execute("update ops.instances set created_at = now() - interval '40 hours' where id = @stagingInstance", new { stagingInstance });

        await world.ScanAsync(project);
        var advisory = await OpenAsync(project, "backup_missing");
        Assert.Equal(("critical", (Guid?)main), (advisory.Severity, advisory.BranchId));
        Assert.Contains("Production branch main has had no succeeded daily backup for 30 hours (the last one: ", advisory.Detail);
        Assert.InRange(advisory.MeasuredValue!.Value, 29.9, 30.2);

        await AssertResolvesAsync(project, "backup_missing", Backup("@main", "daily", "succeeded", 0.01), args);
    }

    [Fact]
    public async Task A_new_production_branch_gets_a_day_to_make_its_first_daily_backup()
    {
        var (project, _, _, _) = await ProjectAsync();
        var instance = await InstanceRows.InsertAsync(world.Owner, project, "main");
        await world.Execute("update ops.instances set created_at = now() - interval '20 hours' where id = @instance", new { instance });
        await world.ScanAsync(project);
        Assert.Empty(await world.AdvisoriesAsync(project, "backup_missing"));

        await world.Execute("update ops.instances set created_at = now() - interval '27 hours' where id = @instance", new { instance });
        await world.ScanAsync(project);
        Assert.Contains("(never one)", (await OpenAsync(project, "backup_missing")).Detail);
    }

    [Fact]
    public async Task A_backup_that_failed_verification_opens_an_advisory_critical_on_production_until_a_later_one_verifies()
    {
        var (project, main, staging, args) = await ProjectAsync();
        await world.Execute(Backup("@staging", "manual", "succeeded", 48, "verified") + Backup("@staging", "manual", "succeeded", 24, "failed", "table count 12, manifest says 14")
                            + Backup("@staging", "manual", "succeeded", 1) // not verified yet: decides nothing
                            + Backup("@main", "daily", "succeeded", 20, "failed", "pg_restore: error: could not read from input file"), args);
        await world.ScanAsync(project);
        var onStaging = (await world.AdvisoriesAsync(project, "backup_verification_failed")).Single(a => a.BranchId == staging);
        var onMain = (await world.AdvisoriesAsync(project, "backup_verification_failed")).Single(a => a.BranchId == main);
        Assert.Equal(("warning", "open"), (onStaging.Severity, onStaging.Status));
        Assert.Contains("could not be proven restorable: table count 12, manifest says 14. 1 backup(s) in a row failed verification.", onStaging.Detail);
        Assert.Equal(("critical", "Backup of main failed verification"), (onMain.Severity, onMain.Title));

        await world.Execute("update ops.backups set verification = 'verified', verified_at = now() where branch_id = @staging and verification = 'pending'", args);
        await world.ScanAsync(project);
        Assert.Equal("resolved", (await world.AdvisoriesAsync(project, "backup_verification_failed")).Single(a => a.Id == onStaging.Id).Status);
        Assert.Equal("open", (await world.AdvisoriesAsync(project, "backup_verification_failed")).Single(a => a.Id == onMain.Id).Status);
    }
}
