using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Metrics;
using OdooOps.Webhooks;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Webhooks;

/// <summary>GET /api/ops/projects/{id}/webhook and POST …/webhook/rotate; and the settings that change the hooks.</summary>
public sealed class WebhookSettingsApiTests(ApiWorld world, PostgresCluster cluster) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Get_shows_absolute_urls_and_whether_a_secret_is_set_never_the_secret()
    {
        var project = await world.NewProjectAsync(world.A);
        var admin = world.Client("admin");
        var none = await admin.GetAsync($"/api/ops/projects/{project}/webhook");
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        using (var json = JsonDocument.Parse(await none.Content.ReadAsStringAsync()))
        {
            Assert.Equal($"http://localhost/hooks/github/{project}", json.RootElement.GetProperty("github_url").GetString());
            Assert.Equal($"http://localhost/hooks/gitlab/{project}", json.RootElement.GetProperty("gitlab_url").GetString());
            Assert.False(json.RootElement.GetProperty("secret_set").GetBoolean());
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("rotated_at").ValueKind);
        }

        var secret = await RotateAsync(world, project, "admin");
        var text = await admin.GetStringAsync($"/api/ops/projects/{project}/webhook");
        Assert.DoesNotContain(secret, text);
        using (var json = JsonDocument.Parse(text))
        {
            Assert.Equal(["github_url", "gitlab_url", "secret_set", "rotated_at"], json.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.True(json.RootElement.GetProperty("secret_set").GetBoolean());
            Assert.True(json.RootElement.GetProperty("rotated_at").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
        }
        // Both audited, and the secret is nowhere in the log.
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var audit = (await conn.QueryAsync<(string Action, string? Text)>(
            "select action, concat(before::text, after::text) from ops.audit_log where project_id = @project order by id", new { project })).ToList();
        Assert.Equal(["webhook.view", "webhook.rotate", "webhook.view"], audit.Select(a => a.Action));
        Assert.DoesNotContain(audit, a => a.Text?.Contains(secret) == true);
    }

    [Fact]
    public async Task Rotate_answers_a_new_secret_once_and_the_old_one_stops_working_at_once()
    {
        var (project, old) = await NewProjectWithSecretAsync(world);
        var response = await world.Client("admin").PostAsync($"/api/ops/projects/{project}/webhook/rotate", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var secret = json.RootElement.GetProperty("secret").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.NotEqual(old, secret);
        Assert.Equal($"http://localhost/hooks/gitlab/{project}", json.RootElement.GetProperty("gitlab_url").GetString());

        var http = world.Client(null);
        var body = GitHubPush("refs/heads/main", Sha('a'));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GitHubAsync(http, project, old, body)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GitLabAsync(http, project, old, GitLabPush("refs/heads/main", Sha('a')))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(http, project, secret, body)).Status);
    }

    [Theory]
    [InlineData("owner", HttpStatusCode.OK)]
    [InlineData("admin", HttpStatusCode.OK)]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Only_admins_of_the_project_rotate_and_read(string? actor, HttpStatusCode expected)
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var before = await StateAsync(world);
        var client = world.Client(actor);
        var rotate = await client.PostAsync($"/api/ops/projects/{project}/webhook/rotate", null);
        var get = await client.GetAsync($"/api/ops/projects/{project}/webhook");
        Assert.Equal(expected, rotate.StatusCode);
        Assert.Equal(expected, get.StatusCode);
        if (expected == HttpStatusCode.OK) return;
        Assert.Equal("application/problem+json", rotate.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await StateAsync(world));
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(world.Client(null), project, secret, GitHubPush("refs/heads/main", Sha('b')))).Status);
    }

    [Fact]
    public async Task With_superseded_cancelling_off_older_queued_builds_stay_and_a_public_url_names_the_hooks()
    {
        await using var server = await IngestServer.StartAsync(cluster, new Dictionary<string, string?>
        {
            [WebhookSettings.CancelSupersededKey] = "false",
            [WebhookSettings.PublicUrlKey] = "https://ops.example.com/",
        });
        const string secret = "0123456789abcdef0123456789abcdef0123456789abcdef";
        await using var conn = await server.OpenOwnerAsync();
        await conn.ExecuteAsync("insert into ops_private.project_webhooks (project_id, secret) values (@ProjectId, @secret)", new { server.ProjectId, secret });

        var first = await GitHubAsync(server.Http, server.ProjectId, secret, GitHubPush("refs/heads/staging", Sha('1')));
        var second = await GitHubAsync(server.Http, server.ProjectId, secret, GitHubPush("refs/heads/staging", Sha('2')));
        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        Assert.Equal(0, second.Json.GetProperty("cancelled_build_ids").GetArrayLength());
        Assert.Equal(["queued", "queued"], await conn.QueryAsync<string>(
            "select status from ops.builds where id = any(@ids) order by created_at",
            new { ids = new[] { first.Json.GetProperty("build_id").GetGuid(), second.Json.GetProperty("build_id").GetGuid() } }));

        var admin = await Accounts.CreateUserAsync(server.Owner, "admin@public-url.test", server.OrgId, "admin");
        using var client = new HttpClient { BaseAddress = server.Http.BaseAddress }.WithToken(await Accounts.CreateTokenAsync(server.Owner, admin));
        using var json = JsonDocument.Parse(await client.GetStringAsync($"/api/ops/projects/{server.ProjectId}/webhook"));
        Assert.Equal($"https://ops.example.com/hooks/github/{server.ProjectId}", json.RootElement.GetProperty("github_url").GetString());
    }
}
