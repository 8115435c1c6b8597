using System.Net;
using System.Text.Json;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Projects;

/// <summary>
/// What a tenant may point the runners at: POST and PATCH /api/ops/projects take https:// and ssh:// (or git@host:…)
/// repositories; a credential in the URL, http://, git://, remote helpers (ext::), options and unknown schemes are a 400
/// naming repo_url that changes nothing; local paths and file:// only where the operator allows them
/// (OPS_ALLOW_LOCAL_REPOS, on for the test servers, off by default).
/// </summary>
public sealed class RepoUrlRulesTests(ApiWorld world, PostgresCluster cluster) : IClassFixture<ApiWorld>
{
    [Theory]
    [InlineData("https://github.com/acme/erp.git")]
    [InlineData("https://git.example.com:8443/group/sub/erp")]
    [InlineData("ssh://git@github.com/acme/erp.git")]
    [InlineData("ssh://git@gitlab.example.com:2222/acme/erp.git")]
    [InlineData("git@github.com:acme/erp.git")]
    [InlineData("/srv/git/erp")] // local: allowed on the test servers
    [InlineData("file:///srv/git/erp")]
    public async Task Remote_git_urls_are_accepted(string url)
    {
        var response = await CreateAsync(world.Client("owner"), url);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("https://deploy:s3cret-token-value@github.com/acme/erp.git", "repository credential")]
    [InlineData("https://ghp_s3cretTokenValue0123456789@github.com/acme/erp.git", "repository credential")]
    [InlineData("ssh://git:s3cret-password@git.example.com/acme/erp.git", "repository credential")]
    [InlineData("https://git.example.com/acme/erp.git?private_token=s3cret", "query")]
    [InlineData("http://git.example.com/acme/erp.git", "http://")]
    [InlineData("git://git.example.com/acme/erp.git", "git://")]
    [InlineData("ext::sh -c touch% /tmp/pwned", "remote helper")]
    [InlineData("fd::3", "remote helper")]
    [InlineData("-oProxyCommand=touch /tmp/pwned", "git URL")]
    [InlineData("ssh://-oProxyCommand=x/acme/erp.git", "git URL")]
    [InlineData("gopher://git.example.com/acme/erp.git", "git URL")]
    [InlineData("github.com/acme/erp", "git URL")] // git would read it as a local path
    public async Task Dangerous_urls_are_a_400_on_repo_url_that_changes_nothing(string url, string says)
    {
        var before = await world.FingerprintAsync();
        var created = await CreateAsync(world.Client("owner"), url);
        var patched = await world.Client("owner").PatchAsync($"/api/ops/projects/{world.A.ProjectId}", ApiWorld.Body(new { repo_url = url }));

        foreach (var response in new[] { created, patched })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            var message = JsonDocument.Parse(body).RootElement.GetProperty("errors").GetProperty("repo_url")[0].GetString()!;
            Assert.Contains(says, message);
            Assert.DoesNotContain("s3cret", body); // the answer never repeats a secret
        }
        Assert.Equal(before, await world.FingerprintAsync());
    }

    [Fact]
    public async Task Local_paths_and_file_urls_are_refused_unless_the_operator_allows_them()
    {
        await using var server = await LiveServer.StartAsync(cluster, "repooff", new Dictionary<string, string?> { ["OPS_ALLOW_LOCAL_REPOS"] = "0" });
        var org = await Accounts.CreateOrgAsync(server.Owner, "local-off");
        var owner = await Accounts.CreateUserAsync(server.Owner, "owner@local-off.test", org, "owner");
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) }.WithToken(await Accounts.CreateTokenAsync(server.Owner, owner));

        foreach (var url in new[] { "/srv/git/erp", "file:///srv/git/erp", "./erp", "~/erp" })
        {
            var response = await CreateAsync(client, url, "local-off");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {body}");
            Assert.Contains("OPS_ALLOW_LOCAL_REPOS", body);
        }
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, "https://github.com/acme/erp.git", "local-off")).StatusCode);
    }

    /// <summary>How the runner API reads a stored URL (projects may predate the rules) before it hands it to a runner.</summary>
    [Theory]
    [InlineData("https://github.com/acme/erp.git", "Remote")]
    [InlineData("http://git.example.com/erp.git", "Remote")] // insecure, refused at input, but no escape from the sandbox
    [InlineData("git@github.com:acme/erp.git", "Remote")]
    [InlineData("ssh://git@github.com/acme/erp.git", "Remote")]
    [InlineData("/srv/git/erp", "Local")]
    [InlineData("file:///srv/git/erp", "Local")]
    [InlineData("github.com/acme/erp", "Local")] // no scheme and no ':' before a '/': git reads a path
    [InlineData("../other-project", "Local")]
    [InlineData("ext::sh -c touch% /tmp/pwned", "Refused")]
    [InlineData("gopher://git.example.com/erp.git", "Refused")] // git would look for a git-remote-gopher helper
    [InlineData("-uhelp", "Refused")]
    public void A_stored_url_is_read_as_git_reads_it(string url, string kind) =>
        Assert.Equal(kind, OdooOps.Projects.ProjectRules.Kind(url).ToString());

    Task<HttpResponseMessage> CreateAsync(HttpClient client, string url, string? org = null) =>
        client.PostAsync("/api/ops/projects", ApiWorld.Body(new { org = org ?? world.A.OrgSlug, name = "Repo", slug = world.Unique("repo"), repo_url = url }));
}
