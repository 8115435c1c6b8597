using System.Net;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Projects;

/// <summary>The seed's step 8 as written: with a session cookie, GET /api/ops/projects → {"projects": [...]}; /app/projects contains "Projects".</summary>
public sealed class SeedStep8Tests(PostgresCluster cluster)
{
    [Fact]
    public async Task Signed_in_session_sees_projects_in_the_api_and_the_console()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var org = await Accounts.CreateOrgAsync(factory.Owner, "step8");
        await Accounts.CreateUserAsync(factory.Owner, "step8@example.com", org, "viewer");
        await Accounts.CreateProjectAsync(factory.Owner, org, "prod-erp");
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });

        var signIn = await Accounts.SignInAsync(client, "step8@example.com");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Contains(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("odooops_session="));

        var api = await client.GetAsync("/api/ops/projects");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        using var json = JsonDocument.Parse(await api.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["projects"], root.EnumerateObject().Select(p => p.Name));
        var project = Assert.Single(root.GetProperty("projects").EnumerateArray());
        Assert.Equal("prod-erp", project.GetProperty("slug").GetString());
        Assert.Equal("main", project.GetProperty("production_branch").GetString());

        var page = await client.GetAsync("/app/projects");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Projects", html);
        Assert.True(html.Contains("Project prod-erp"), html);
    }

    [Fact]
    public async Task Anonymous_requests_are_refused_or_sent_to_sign_in()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        var api = await client.GetAsync("/api/ops/projects");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);

        var page = await client.GetAsync("/app/projects?org=x");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/login?returnUrl=%2Fapp%2Fprojects%3Forg%3Dx", page.Headers.Location?.PathAndQuery);
    }
}
