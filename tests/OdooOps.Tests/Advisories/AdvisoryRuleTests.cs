using System.Net;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Advisories;

/// <summary>
/// Every rule through POST /functions/v1/ops-advisory-scan: it raises with the measured value in the detail, a
/// second scan refreshes instead of duplicating, it resolves by itself once the condition clears, and a suppression
/// holds until it expires — then the advisory reopens (the same row, not counted as created). Project rules scan
/// their own fresh project, server rules the system project alone, so every count is exact.
/// </summary>
public sealed class AdvisoryRuleTests(AdvisoryWorld world) : IClassFixture<AdvisoryWorld>
{
    sealed record Subject(Guid Project, Guid? Branch, object Args);

    /// <summary>A fresh project for a project rule; for a server rule, the system project with all clear first.</summary>
    async Task<Subject> PrepareAsync(RuleScenario s)
    {
        if (s.IsServerRule)
        {
            world.Probe.Next = RuleScenario.Healthy;
            await world.ScanAsync(RuleScenario.SystemProject);
            return new(RuleScenario.SystemProject, null, new { });
        }
        var project = await world.NewProjectAsync();
        var (main, staging, feature) = (await world.BranchAsync(project, "main"), await world.BranchAsync(project, "staging"), await world.BranchAsync(project, "feature-x"));
        Guid? branch = s.Subject switch { "main" => main, "staging" => staging, "feature-x" => feature, _ => null };
        return new(project, branch, new { project, main, staging, feature });
    }

    async Task RaiseAsync(RuleScenario s, Subject subject)
    {
        if (s.IsServerRule) world.Probe.Next = s.RaiseHealth!;
        else await world.Execute(s.RaiseSql!, subject.Args);
    }

    async Task ClearAsync(RuleScenario s, Subject subject)
    {
        if (s.IsServerRule) world.Probe.Next = s.ClearHealth!;
        else await world.Execute(s.ClearSql!, subject.Args);
    }

    async Task<List<AdvisoryWorld.Row>> LiveAsync(RuleScenario s, Subject subject) =>
        [.. (await world.AdvisoriesAsync(subject.Project, s.Rule)).Where(r => r.Status != "resolved")];

    static string Fingerprint(RuleScenario s, Subject subject) => $"{s.Rule}:{subject.Branch ?? subject.Project}";

    [Theory]
    [MemberData(nameof(RuleScenario.Names), MemberType = typeof(RuleScenario))]
    public async Task Raises_with_the_measured_value_and_a_second_scan_does_not_duplicate(string rule)
    {
        var s = RuleScenario.Named(rule);
        var subject = await PrepareAsync(s);
        await RaiseAsync(s, subject);

        var first = await world.ScanAsync(subject.Project);
        Assert.Equal(1, first.GetProperty("advisories_created").GetInt32());
        Assert.Equal(1, first.GetProperty("projects_scanned").GetInt32());
        Assert.False(first.TryGetProperty("unavailable", out _));
        var raised = Assert.Single(await LiveAsync(s, subject));
        Assert.Equal(("open", s.Severity, Fingerprint(s, subject), subject.Branch), (raised.Status, raised.Severity, raised.Fingerprint, raised.BranchId));
        Assert.Contains(s.DetailContains, raised.Detail);
        Assert.InRange(raised.MeasuredValue!.Value, s.Measured - 1, s.Measured + 1);

        var second = await world.ScanAsync(subject.Project);
        Assert.Equal(0, second.GetProperty("advisories_created").GetInt32());
        Assert.Equal(0, second.GetProperty("advisories_resolved").GetInt32());
        var refreshed = Assert.Single(await LiveAsync(s, subject));
        Assert.Equal((raised.Id, raised.FirstSeenAt, "open"), (refreshed.Id, refreshed.FirstSeenAt, refreshed.Status));
        Assert.True(refreshed.LastSeenAt > raised.LastSeenAt, "last_seen_at moves on every scan that still sees it");
    }

    [Theory]
    [MemberData(nameof(RuleScenario.Names), MemberType = typeof(RuleScenario))]
    public async Task Resolves_by_itself_when_the_condition_clears(string rule)
    {
        var s = RuleScenario.Named(rule);
        var subject = await PrepareAsync(s);
        await RaiseAsync(s, subject);
        await world.ScanAsync(subject.Project);
        var raised = Assert.Single(await LiveAsync(s, subject));

        await ClearAsync(s, subject);
        var answer = await world.ScanAsync(subject.Project);
        Assert.Equal((0, 1), (answer.GetProperty("advisories_created").GetInt32(), answer.GetProperty("advisories_resolved").GetInt32()));
        var resolved = (await world.AdvisoriesAsync(subject.Project, s.Rule)).Single(r => r.Id == raised.Id);
        Assert.Equal("resolved", resolved.Status);
        Assert.NotNull(resolved.ResolvedAt);
        Assert.Empty(await LiveAsync(s, subject));
    }

    [Theory]
    [MemberData(nameof(RuleScenario.Names), MemberType = typeof(RuleScenario))]
    public async Task A_suppression_holds_until_it_expires_and_then_the_advisory_reopens(string rule)
    {
        var s = RuleScenario.Named(rule);
        var subject = await PrepareAsync(s);
        await RaiseAsync(s, subject);
        await world.ScanAsync(subject.Project);
        var raised = Assert.Single(await LiveAsync(s, subject));

        // Through the API, as a person would: a developer of org A, or a system admin for the system project (a
        // member of its org since the scan).
        var actor = s.IsServerRule ? "sysadmin" : "developer";
        var suppress = await world.Client(actor).PostAsync($"/api/ops/projects/{subject.Project}/advisories/{raised.Id}/suppress",
            AdvisoryWorld.Body(new { until = DateTimeOffset.UtcNow.AddDays(1).ToString("O"), reason = "known, fix scheduled" }));
        Assert.Equal(HttpStatusCode.OK, suppress.StatusCode);

        var whileSuppressed = await world.ScanAsync(subject.Project);
        Assert.Equal(0, whileSuppressed.GetProperty("advisories_created").GetInt32());
        var held = Assert.Single(await LiveAsync(s, subject));
        Assert.Equal((raised.Id, "suppressed", "known, fix scheduled"), (held.Id, held.Status, held.SuppressReason));

        await world.Execute("update ops.advisories set suppressed_until = now() - interval '1 minute' where id = @Id", raised);
        var afterExpiry = await world.ScanAsync(subject.Project);
        Assert.Equal(0, afterExpiry.GetProperty("advisories_created").GetInt32());
        var reopened = Assert.Single(await LiveAsync(s, subject));
        Assert.Equal((raised.Id, "open"), (reopened.Id, reopened.Status));
        Assert.Null(reopened.SuppressedUntil);
    }

    [Fact]
    public async Task A_suppressed_advisory_whose_condition_cleared_resolves_once_the_suppression_expires()
    {
        var s = RuleScenario.Named("runtime_unsupported");
        var subject = await PrepareAsync(s);
        await RaiseAsync(s, subject);
        await world.ScanAsync(subject.Project);
        var raised = Assert.Single(await LiveAsync(s, subject));
        await world.Execute("update ops.advisories set status = 'suppressed', suppressed_until = now() + interval '1 day', suppress_reason = 'upgrade planned' where id = @Id", raised);

        await ClearAsync(s, subject);
        Assert.Equal(0, (await world.ScanAsync(subject.Project)).GetProperty("advisories_resolved").GetInt32());
        Assert.Equal("suppressed", Assert.Single(await LiveAsync(s, subject)).Status);

        await world.Execute("update ops.advisories set suppressed_until = now() - interval '1 minute' where id = @Id", raised);
        Assert.Equal(1, (await world.ScanAsync(subject.Project)).GetProperty("advisories_resolved").GetInt32());
        Assert.Empty(await LiveAsync(s, subject));
    }

    [Fact]
    public async Task Memory_high_also_fires_above_the_projects_own_memory_limit()
    {
        var project = await world.NewProjectAsync();
        var main = await world.BranchAsync(project, "main");
        await world.Execute("""
            update ops.projects set memory_limit_mb = 1024 where id = @project;
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select @project, @main, 'mem_mb', now() - make_interval(mins => i), 1500 from generate_series(1, 5) i
            """, new { project, main });
        await world.ScanAsync(project);
        var advisory = Assert.Single(await world.AdvisoriesAsync(project, "memory_high"));
        Assert.Contains("Memory averaged 1500 MB over the last 15 minutes, above the project's limit of 1024 MB.", advisory.Detail);
        Assert.Equal(1500, advisory.MeasuredValue);

        await world.Execute("update ops.projects set memory_limit_mb = 2048 where id = @project", new { project });
        Assert.Equal(1, (await world.ScanAsync(project)).GetProperty("advisories_resolved").GetInt32());
    }

    [Fact]
    public async Task A_project_without_any_branch_gets_an_info_advisory_that_becomes_a_warning()
    {
        var project = await Accounts.CreateProjectAsync(world.Owner, world.OrgA, world.Unique("bare"), withBranches: false);
        await world.ScanAsync(project);
        var info = Assert.Single(await world.AdvisoriesAsync(project, "no_production_branch"));
        Assert.Equal(("info", 0d), (info.Severity, info.MeasuredValue));

        await world.Execute("insert into ops.branches (project_id, name, stage) values (@project, 'dev', 'development')", new { project });
        await world.ScanAsync(project);
        var warning = Assert.Single(await world.AdvisoriesAsync(project, "no_production_branch"));
        Assert.Equal((info.Id, "warning", 1d), (warning.Id, warning.Severity, warning.MeasuredValue));
    }

    [Fact]
    public async Task The_server_rules_wait_for_enough_requests_and_hold_their_advisories_meanwhile()
    {
        world.Probe.Next = RuleScenario.Healthy with { ErrorRatePct = 9 };
        await world.ScanAsync(RuleScenario.SystemProject);
        var raised = Assert.Single(await world.AdvisoriesAsync(RuleScenario.SystemProject, "error_rate_high"), r => r.Status == "open");

        // Too few requests since the last window: not judged, so neither resolved nor reported unavailable.
        world.Probe.Next = RuleScenario.Healthy with { Requests = 3, ErrorRatePct = null, P95Ms = null };
        var quiet = await world.ScanAsync(RuleScenario.SystemProject);
        Assert.Equal(0, quiet.GetProperty("advisories_resolved").GetInt32());
        Assert.False(quiet.TryGetProperty("unavailable", out _));
        Assert.Equal("open", (await world.AdvisoriesAsync(RuleScenario.SystemProject)).Single(r => r.Id == raised.Id).Status);

        world.Probe.Next = RuleScenario.Healthy;
        Assert.Equal(1, (await world.ScanAsync(RuleScenario.SystemProject)).GetProperty("advisories_resolved").GetInt32());
    }

    [Fact]
    public async Task Instance_failed_says_why_is_a_warning_off_production_and_ignores_instances_stopped_on_purpose()
    {
        var project = await world.NewProjectAsync();
        var (main, staging, feature) = (await world.BranchAsync(project, "main"), await world.BranchAsync(project, "staging"), await world.BranchAsync(project, "feature-x"));
        var args = new { project, main, staging, feature };
        await world.Execute(RuleScenario.Instance("@staging", "staging", "failed", reason: "out of memory", restarts: 3), args);
        await world.Execute(RuleScenario.Instance("@feature", "development", "failed", desired: "stopped", restarts: 2), args); // stopped on purpose since
        await world.Execute(RuleScenario.Instance("@main", "production", "failed", restarts: 4) + "; update ops.instances set retired_at = now() where branch_id = @main", args);

        await world.ScanAsync(project);

        var advisory = Assert.Single(await world.AdvisoriesAsync(project, "instance_failed"));
        Assert.Equal(("warning", staging, $"instance_failed:{staging}", 3d), (advisory.Severity, advisory.BranchId, advisory.Fingerprint, advisory.MeasuredValue));
        Assert.Equal("Odoo instance of staging failed", advisory.Title);
        Assert.Contains("The staging instance of staging (build ", advisory.Detail);
        Assert.Contains("commit abc1234def) failed after 3 restart(s): out of memory.", advisory.Detail);

        // Stopping it on purpose is an answer too.
        await world.Execute("update ops.instances set desired = 'stopped' where branch_id = @staging", args);
        Assert.Equal(1, (await world.ScanAsync(project)).GetProperty("advisories_resolved").GetInt32());
    }

    [Theory]
    [InlineData("update ops.instances set desired = 'stopped' where branch_id = @main")]
    [InlineData("update ops.instances set desired = 'stopped', retired_at = now() where branch_id = @main")]
    public async Task Metrics_missing_holds_its_peace_for_a_production_instance_stopped_on_purpose(string stopSql)
    {
        var s = RuleScenario.Named("metrics_missing");
        var project = await world.NewProjectAsync();
        var main = await world.BranchAsync(project, "main");
        var args = new { project, main };
        await world.Execute(RuleScenario.Instance("@main", "production", "running"), args);
        await world.Execute(s.RaiseSql!, args);
        await world.ScanAsync(project);
        Assert.Single(await world.AdvisoriesAsync(project, "metrics_missing"), a => a.Status == "open");

        await world.Execute(stopSql, args);
        Assert.Equal(1, (await world.ScanAsync(project)).GetProperty("advisories_resolved").GetInt32());
        Assert.DoesNotContain(await world.AdvisoriesAsync(project, "metrics_missing"), a => a.Status != "resolved");

        // A current instance that should run but sends nothing is news again.
        await world.Execute("update ops.instances set desired = 'running', retired_at = null where branch_id = @main", args);
        await world.ScanAsync(project);
        Assert.Single(await world.AdvisoriesAsync(project, "metrics_missing"), a => a.Status == "open");
    }
}
