using OdooOps.Branches.Pages;
using OdooOps.Ui;

namespace OdooOps.Tests.Ui;

/// <summary>The console's pure rules: relative times, badge colours and which stage moves a role is offered.</summary>
public sealed class UiRulesTests
{
    static readonly DateTime Now = new(2026, 3, 14, 12, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(10, "just now")]
    [InlineData(5 * 60, "5 min ago")]
    [InlineData(59 * 60, "59 min ago")]
    [InlineData(3 * 3600 + 20 * 60, "3 h ago")]
    [InlineData(30 * 3600, "yesterday")]
    [InlineData(5 * 86400, "5 days ago")]
    [InlineData(60 * 86400, "13 Jan")]
    [InlineData(400 * 86400, "7 Feb 2025")]
    [InlineData(-30, "just now")]
    public void Relative_times_read_like_a_person_would_say_them(int secondsAgo, string expected) =>
        Assert.Equal(expected, UiFormat.Relative(Now.AddSeconds(-secondsAgo), Now));

    [Fact]
    public void Exact_time_is_utc() => Assert.Equal("2026-03-14 12:00:00 UTC", UiFormat.ExactUtc(Now));

    [Theory]
    [InlineData("success", "success")]
    [InlineData("warning", "warning")]
    [InlineData("failed", "danger")]
    [InlineData("timed_out", "expired")]
    [InlineData("queued", "neutral")]
    [InlineData("running", "progress")]
    [InlineData("cancelled", "neutral")]
    [InlineData("skipped", "neutral")]
    [InlineData(null, "neutral")]
    public void Build_statuses_have_their_colour(string? status, string tone) => Assert.Equal(tone, UiFormat.StatusTone(status));

    [Theory]
    [InlineData(850, "850 ms")]
    [InlineData(12_480, "12.4 s")]
    [InlineData(59_990, "59.9 s")]
    [InlineData(185_000, "3 min 05 s")]
    [InlineData(3_725_000, "1 h 02 min")]
    [InlineData(-5, "0 ms")]
    public void Durations_read_at_a_glance(long ms, string expected) => Assert.Equal(expected, UiFormat.Duration(TimeSpan.FromMilliseconds(ms)));

    [Theory]
    [InlineData("app/projects", null, "Projects")]
    [InlineData("app/projects?org=labs", null, "Projects")]
    [InlineData("app/projects/erp/branches", "erp", "Projects")]
    [InlineData("app/projects/erp/builds", "erp", "Builds")]
    [InlineData("app/projects/erp/builds/3f2a?cancel=done", "erp", "Builds")]
    [InlineData("app/tokens", null, "Tokens")]
    [InlineData("login", null, null)]
    public void The_sidebar_knows_the_project_and_section_of_a_path(string path, string? slug, string? section)
    {
        Assert.Equal(slug, UiSections.ProjectSlug(path));
        Assert.Equal(section, UiSections.Current(path)?.Name);
    }

    [Fact]
    public void The_builds_section_links_only_inside_a_project()
    {
        var builds = UiSections.All.Single(s => s.Name == "Builds");
        Assert.Null(builds.HrefFor(null));
        Assert.Equal("app/projects/erp/builds", builds.HrefFor("erp"));
        Assert.Equal("app/projects/a%20b/builds", builds.HrefFor("a b"));
        Assert.Equal("app/projects/erp/deployments", UiSections.All.Single(s => s.Name == "Deployments").HrefFor("erp"));
        Assert.Equal("app/metrics", UiSections.All.Single(s => s.Name == "Metrics").HrefFor("erp")); // across projects: chosen on the page
    }
}
