using System.Net;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Advisories;

/// <summary>
/// /app/advisories and /app/projects/{slug}/advisories over HTTP with session cookies: GET filters, and the forms that
/// post to AdvisoryActions (the API's use case) — the database decides who may, the page shows its refusals with their
/// status, and nothing changes on a refusal.
/// </summary>
public sealed class AdvisoriesPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    async Task<(Guid Project, string Slug, Guid Advisory)> ProjectWithAdvisoryAsync(Guid? org = null, string severity = "critical")
    {
        var (project, slug) = await world.NewProjectAsync(org);
        var id = await world.ScalarAsync<Guid>("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title, detail, remediation)
            values (@project, 'cpu_high', 'cpu_high:' || gen_random_uuid(), @severity, 'CPU high on main', 'CPU averaged 93%', 'Add workers')
            returning id
            """, new { project, severity });
        return (project, slug, id);
    }

    Task<string> StatusAsync(Guid id) => world.ScalarAsync<string>("select status from ops.advisories where id = @id", new { id });

    [Fact]
    public async Task A_viewer_sees_detail_and_remediation_but_a_crafted_resolve_is_refused()
    {
        var (_, slug, id) = await ProjectWithAdvisoryAsync();
        var viewer = await world.ClientAsync("viewer");
        var url = $"/app/projects/{slug}/advisories";
        var page = await viewer.GetStringAsync(url);
        Assert.Contains("CPU averaged 93%", page);
        Assert.Contains("Add workers", page);
        Assert.DoesNotContain($"value=\"resolve:{id}\"", page);

        var response = await ConsoleWorld.PostFormAsync(viewer, url, "advisory-action", new() { ["Act"] = $"resolve:{id}" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("needs a developer", await response.Content.ReadAsStringAsync());
        Assert.Equal("open", await StatusAsync(id));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where target_id = @id", new { id = id.ToString() }));
    }

    [Fact]
    public async Task Another_organisations_advisory_cannot_be_resolved_from_this_page()
    {
        var (_, _, theirs) = await ProjectWithAdvisoryAsync(world.OrgB);
        await ProjectWithAdvisoryAsync(); // one of the page's own, so that its form is there to post to
        var developer = await world.ClientAsync("developer");
        var response = await ConsoleWorld.PostFormAsync(developer, "/app/advisories", "advisory-action", new() { ["Act"] = $"resolve:{theirs}" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("open", await StatusAsync(theirs));
        Assert.DoesNotContain(theirs.ToString(), await developer.GetStringAsync("/app/advisories?status=all"));
    }

    [Fact]
    public async Task The_suppress_dialog_names_a_missing_reason_and_a_past_date_then_suppresses()
    {
        var (_, slug, id) = await ProjectWithAdvisoryAsync();
        var developer = await world.ClientAsync("developer");
        var dialog = $"/app/projects/{slug}/advisories?suppress={id}";
        Assert.Contains("id=\"suppress-until\"", await developer.GetStringAsync(dialog));

        var bad = await ConsoleWorld.PostFormAsync(developer, dialog, "suppress-advisory", new() { ["Target"] = id.ToString(), ["Until"] = "2001-01-01", ["Reason"] = " " });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var html = await bad.Content.ReadAsStringAsync();
        Assert.Contains("until must be in the future.", ConsoleWorld.FieldBlock(html, "until"));
        Assert.Contains("reason is required.", ConsoleWorld.FieldBlock(html, "reason"));
        Assert.Equal("open", await StatusAsync(id));

        var until = DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd");
        var ok = await ConsoleWorld.PostFormAsync(developer, dialog, "suppress-advisory", new() { ["Target"] = id.ToString(), ["Until"] = until, ["Reason"] = "Vendor fix Friday" });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.Equal("suppressed", await StatusAsync(id));
        Assert.Contains($"until {DateTime.Parse(until).AddDays(1):yyyy-MM-dd} 00:00 UTC", await developer.GetStringAsync(ok.Headers.Location!.PathAndQuery));
        var page = await developer.GetStringAsync($"/app/projects/{slug}/advisories?status=suppressed");
        Assert.Contains("Suppressed by developer@a.test", page);
        Assert.Contains("Vendor fix Friday", page);
    }

    [Fact]
    public async Task Filters_are_a_link_and_made_up_values_are_dropped()
    {
        var (_, slug, critical) = await ProjectWithAdvisoryAsync();
        var warning = await world.ScalarAsync<Guid>("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title)
            select id, 'memory_high', 'memory_high:x', 'warning', 'Memory high' from ops.projects where slug = @slug returning id
            """, new { slug });
        var viewer = await world.ClientAsync("viewer");
        var filtered = await viewer.GetStringAsync($"/app/advisories?project={slug}&severity=warning");
        Assert.Contains(warning.ToString(), filtered);
        Assert.DoesNotContain(critical.ToString(), filtered);
        Assert.Contains(critical.ToString(), await viewer.GetStringAsync($"/app/advisories?project={slug}&rule=cpu_high"));
        var junk = await viewer.GetAsync($"/app/advisories?project={slug}&severity=extreme&status=closed&rule=%3Cscript%3E");
        Assert.Equal(HttpStatusCode.OK, junk.StatusCode);
        var html = await junk.Content.ReadAsStringAsync();
        Assert.Contains(critical.ToString(), html);
        Assert.DoesNotContain("&lt;script&gt;", html); // a rule that is not among the list's is not echoed
    }
}
