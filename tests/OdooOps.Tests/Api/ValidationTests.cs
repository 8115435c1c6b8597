using System.Net;
using System.Text.Json;

namespace OdooOps.Tests.Api;

/// <summary>Bad input gets 400 with a ProblemDetails naming the field, and changes nothing.</summary>
public sealed class ValidationTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    public static TheoryData<string, string, string, string> Cases() => new()
    {
        // method, path template ({project}, {org}, {branch}), body, field
        { "POST", "/api/ops/projects", """{"org_id":"{org}","slug":"ok-slug","repo_url":"https://e.com/x.git"}""", "name" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","slug":"Bad Slug!","repo_url":"https://e.com/x.git"}""", "slug" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","slug":"ok-slug","repo_url":"not a url"}""", "repo_url" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","slug":"ok-slug","repo_url":"https://e.com/x.git","runtime_version":"nineteen"}""", "runtime_version" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","slug":"","repo_url":"https://e.com/x.git"}""", "slug" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","slug":" ok-slug","repo_url":"https://e.com/x.git"}""", "slug" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","repo_url":"https://e.com/x.git","runtime_version":""}""", "runtime_version" },
        { "POST", "/api/ops/projects", """{"name":"X","repo_url":"https://e.com/x.git"}""", "org_id" },
        { "POST", "/api/ops/projects", """{"org":"no-such-org","name":"X","repo_url":"https://e.com/x.git"}""", "org" },
        { "POST", "/api/ops/projects", """{"org_id":"{org}","name":"X","slug":"proj-a","repo_url":"https://e.com/x.git"}""", "slug" },
        { "PATCH", "/api/ops/projects/{project}", """{"slug":"UPPER"}""", "slug" },
        { "PATCH", "/api/ops/projects/{project}", """{"name":"  "}""", "name" },
        { "POST", "/api/ops/projects/{project}/branches", """{"name":"has space"}""", "name" },
        { "POST", "/api/ops/projects/{project}/branches", """{"name":"ok","stage":"prod"}""", "stage" },
        { "POST", "/api/ops/projects/{project}/branches", """{"name":"main"}""", "name" },
        { "POST", "/api/ops/projects/{project}/branches", """{"name":"second-prod","stage":"production"}""", "stage" },
        { "POST", "/api/ops/projects/{project}/branches/{branch}/stage", """{"stage":"qa"}""", "stage" },
        { "POST", "/api/ops/projects/{project}/branches/{branch}/stage", """{}""", "stage" },
        { "GET", "/api/ops/projects/{project}/builds?status=great", "", "status" },
        { "GET", "/api/ops/projects/{project}/builds?limit=0", "", "limit" },
        { "GET", "/api/ops/projects/{project}/builds?cursor=garbage", "", "cursor" },
        { "GET", "/api/ops/projects/{project}/builds?branch=no-such-branch", "", "branch" },
        { "POST", "/api/ops/orgs/{org}/members", """{"email":"not an email","role":"viewer"}""", "email" },
        { "POST", "/api/ops/orgs/{org}/members", """{"email":"owner@a.test","role":"king"}""", "role" },
        { "POST", "/api/ops/projects/{project}/members", """{"email":"owner@a.test","role":"owner"}""", "role" },
        { "POST", "/api/ops/tokens", """{"scope":"write"}""", "name" },
        { "POST", "/api/ops/tokens", """{"name":"t","scope":"admin"}""", "scope" },
        { "POST", "/api/ops/tokens", """{"name":"t","scope":"read","expires_in_days":0}""", "expires_in_days" },
        { "POST", "/api/ops/auth/token", """{"password":"x"}""", "email" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_a_400_naming_the_field_and_changes_nothing(string method, string template, string body, string field)
    {
        var branch = await world.BranchAsync(world.A.ProjectId, "feature-x");
        var path = template.Replace("{project}", world.A.ProjectId.ToString()).Replace("{org}", world.A.OrgId.ToString()).Replace("{branch}", branch.ToString());
        var before = await world.FingerprintAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body.Length > 0)
            request.Content = new StringContent(body.Replace("{org}", world.A.OrgId.ToString()), System.Text.Encoding.UTF8, "application/json");

        var response = await world.Client("owner").SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out var messages), text);
        Assert.Contains(messages.EnumerateArray(), m => !string.IsNullOrWhiteSpace(m.GetString()));
        Assert.Equal(before, await world.FingerprintAsync());
    }

    [Theory]
    [InlineData("POST", "/api/ops/projects", "{not json")]
    [InlineData("POST", "/api/ops/projects", "")]
    public async Task Malformed_bodies_are_400_problem_details(string method, string path, string body)
    {
        var before = await world.FingerprintAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        var response = await world.Client("owner").SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await world.FingerprintAsync());
    }

    [Fact]
    public async Task Unknown_ids_are_404_problem_details()
    {
        var response = await world.Client("owner").GetAsync($"/api/ops/builds/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var project = await world.Client("owner").GetAsync($"/api/ops/projects/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, project.StatusCode);
    }
}
