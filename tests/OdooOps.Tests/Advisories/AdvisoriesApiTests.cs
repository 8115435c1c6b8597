using System.Net;
using System.Text.Json;

namespace OdooOps.Tests.Advisories;

/// <summary>GET /api/ops/advisories and POST …/advisories/{id}/resolve|suppress: filters, roles, tenants, validation, audit.</summary>
public sealed class AdvisoriesApiTests(AdvisoryWorld world) : IClassFixture<AdvisoryWorld>
{
    Task<Guid> InsertAsync(Guid project, string severity = "warning", string status = "open") =>
        world.Scalar<Guid>("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title, status, resolved_at)
            values (@project, 'test_rule', 'test_rule:' || gen_random_uuid(), @severity, 'Test advisory', @status,
                    case when @status = 'resolved' then now() end)
            returning id
            """, new { project, severity, status });

    static async Task<List<JsonElement>> ListAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. json.RootElement.GetProperty("advisories").EnumerateArray().Select(e => e.Clone())];
    }

    static async Task AssertNamesFieldAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}");
    }

    Task<long> AuditRowsAsync(Guid advisory, string action) =>
        world.Scalar<long>("select count(*) from ops.audit_log where target_type = 'advisory' and target_id = @id and action = @action",
            new { id = advisory.ToString(), action });

    [Fact]
    public async Task The_list_shows_the_callers_tenants_only_and_filters_by_project_status_and_severity()
    {
        var (p1, p2, other) = (await world.NewProjectAsync(), await world.NewProjectAsync(), await world.NewProjectAsync(inOrgB: true));
        var critical = await InsertAsync(p1, "critical");
        var warning = await InsertAsync(p2, "warning");
        var resolved = await InsertAsync(p1, "info", "resolved");
        var foreign = await InsertAsync(other, "critical");

        var open = (await ListAsync(await world.Client("viewer").GetAsync("/api/ops/advisories"))).Select(a => a.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(critical, open);
        Assert.Contains(warning, open);
        Assert.DoesNotContain(resolved, open); // open by default
        Assert.DoesNotContain(foreign, open);
        Assert.True(open.IndexOf(critical) < open.IndexOf(warning), "most severe first");

        var mine = await ListAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?project={p1}&status=all"));
        Assert.Equal([critical, resolved], mine.Select(a => a.GetProperty("id").GetGuid()));
        Assert.Equal(p1, mine[0].GetProperty("project_id").GetGuid());
        Assert.False(string.IsNullOrEmpty(mine[0].GetProperty("project_slug").GetString()));
        Assert.Equal([warning], (await ListAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?project={p2}&severity=warning"))).Select(a => a.GetProperty("id").GetGuid()));
        Assert.Empty(await ListAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?project={other}&status=all")));
        Assert.Equal([foreign], (await ListAsync(await world.Client("b-owner").GetAsync($"/api/ops/advisories?project={other}"))).Select(a => a.GetProperty("id").GetGuid()));
    }

    [Theory]
    [InlineData("status=closed", "status")]
    [InlineData("severity=high", "severity")]
    [InlineData("project=erp", "project")]
    public async Task A_bad_list_filter_names_the_field(string query, string field) =>
        await AssertNamesFieldAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?{query}"), field);

    [Fact]
    public async Task Anonymous_callers_get_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client().GetAsync("/api/ops/advisories")).StatusCode);

    [Fact]
    public async Task A_developer_resolves_with_an_audit_row_and_resolving_again_changes_nothing()
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        var response = await world.Client("developer").PostAsync($"/api/ops/projects/{project}/advisories/{id}/resolve", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("resolved", json.RootElement.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, json.RootElement.GetProperty("resolved_at").ValueKind);
        Assert.Equal(1, await AuditRowsAsync(id, "advisory.resolve"));

        Assert.Equal(HttpStatusCode.OK, (await world.Client("developer").PostAsync($"/api/ops/projects/{project}/advisories/{id}/resolve", null)).StatusCode);
        Assert.Equal(1, await AuditRowsAsync(id, "advisory.resolve"));
    }

    [Fact]
    public async Task A_developer_suppresses_until_a_time_with_a_reason_and_an_audit_row()
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        var until = DateTimeOffset.UtcNow.AddDays(3);
        var response = await world.Client("developer").PostAsync($"/api/ops/projects/{project}/advisories/{id}/suppress",
            AdvisoryWorld.Body(new { until = until.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-ddTHH:mm:sszzz"), reason = "vendor fix due Friday" }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var row = Assert.Single(await world.AdvisoriesAsync(project));
        Assert.Equal(("suppressed", "vendor fix due Friday"), (row.Status, row.SuppressReason));
        Assert.InRange(row.SuppressedUntil!.Value, until.UtcDateTime.AddSeconds(-2), until.UtcDateTime.AddSeconds(1));
        Assert.Equal(1, await AuditRowsAsync(id, "advisory.suppress"));
    }

    public static TheoryData<string, string> BadSuppressions => new()
    {
        { """{"until": "2001-01-01T00:00:00Z", "reason": "old"}""", "until" },
        { """{"until": "2099-01-01T00:00:00", "reason": "no offset"}""", "until" },
        { """{"until": "next week", "reason": "words"}""", "until" },
        { """{"reason": "no until"}""", "until" },
        { """{"until": "2099-01-01T00:00:00+01:00", "reason": "   "}""", "reason" },
        { """{"until": "2099-01-01T00:00:00+01:00"}""", "reason" },
    };

    [Theory]
    [MemberData(nameof(BadSuppressions))]
    public async Task A_bad_suppression_names_the_field_and_changes_nothing(string body, string field)
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        var response = await world.Client("developer").PostAsync($"/api/ops/projects/{project}/advisories/{id}/suppress",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await AssertNamesFieldAsync(response, field);
        Assert.Equal("open", Assert.Single(await world.AdvisoriesAsync(project)).Status);
        Assert.Equal(0, await AuditRowsAsync(id, "advisory.suppress"));
    }

    [Fact]
    public async Task A_resolved_advisory_cannot_be_suppressed()
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project, status: "resolved");
        var response = await world.Client("developer").PostAsync($"/api/ops/projects/{project}/advisories/{id}/suppress",
            AdvisoryWorld.Body(new { until = "2099-01-01T00:00:00Z", reason = "late" }));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Theory]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("developer-read", HttpStatusCode.Forbidden)] // a read-scope token of a developer
    [InlineData("b-owner", HttpStatusCode.NotFound)]         // another tenant: the project does not exist for them
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Below_developer_or_from_another_tenant_nothing_changes(string? actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        var client = world.Client(actor);
        Assert.Equal(expected, (await client.PostAsync($"/api/ops/projects/{project}/advisories/{id}/resolve", null)).StatusCode);
        Assert.Equal(expected, (await client.PostAsync($"/api/ops/projects/{project}/advisories/{id}/suppress",
            AdvisoryWorld.Body(new { until = "2099-01-01T00:00:00Z", reason = "not mine" }))).StatusCode);
        Assert.Equal("open", Assert.Single(await world.AdvisoriesAsync(project)).Status);
    }

    [Fact]
    public async Task Another_projects_advisory_under_my_project_is_404()
    {
        var mine = await world.NewProjectAsync();
        var theirs = await InsertAsync(await world.NewProjectAsync(inOrgB: true));
        var alsoMine = await InsertAsync(await world.NewProjectAsync());
        foreach (var id in new[] { theirs, alsoMine, Guid.NewGuid() })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await world.Client("developer").PostAsync($"/api/ops/projects/{mine}/advisories/{id}/resolve", null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await world.Client("developer").PostAsync($"/api/ops/projects/{mine}/advisories/{id}/suppress",
                AdvisoryWorld.Body(new { until = "2099-01-01T00:00:00Z", reason = "wrong project" }))).StatusCode);
        }
        Assert.Equal("open", await world.Scalar<string>("select status from ops.advisories where id = @theirs", new { theirs }));
        Assert.Equal("open", await world.Scalar<string>("select status from ops.advisories where id = @alsoMine", new { alsoMine }));
    }
}
