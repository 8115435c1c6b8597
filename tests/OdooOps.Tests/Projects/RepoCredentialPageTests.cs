using System.Net;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Projects;

/// <summary>
/// The settings page's repository credential card (project admins): a token or SSH key is saved through the same use
/// case as the API and never shown again; a refused one is not sent back; lower roles get no card and their hand-made
/// posts change nothing. The general form refuses a credential in the repository URL without echoing it.
/// </summary>
public sealed class RepoCredentialPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    const string Token = "glpat-PageS3cretToken0123456789";

    static string Url(string slug) => $"/app/projects/{slug}/settings";

    Task<string?> StoredAsync(Guid projectId) => world.ScalarAsync<string?>(
        "select kind || ':' || coalesce(username, '') from ops_private.repo_credentials where project_id = @projectId", new { projectId });

    [Fact]
    public async Task An_admin_saves_a_token_and_an_ssh_key_which_the_page_never_shows_again_then_removes_it()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");
        Assert.Contains("none: builds fetch without one", await admin.GetStringAsync(Url(slug)));

        var saved = await ConsoleWorld.PostFormAsync(admin, Url(slug), "repo-token", new() { ["Token.Username"] = "deployer", ["Token.Secret"] = Token });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal($"{Url(slug)}?saved=repo-credential", saved.Headers.Location?.PathAndQuery);
        Assert.Equal("token:deployer", await StoredAsync(projectId));
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync($"{Url(slug)}?saved=repo-credential"));
        Assert.Contains("token for deployer, set", page);
        Assert.DoesNotContain("S3cret", page);

        var privateKey = RepoCredentialApiTests.OpenSshKey("none");
        var key = await ConsoleWorld.PostFormAsync(admin, Url(slug), "repo-ssh-key", new() { ["Key.Secret"] = privateKey });
        Assert.Equal(HttpStatusCode.Redirect, key.StatusCode);
        Assert.Equal("ssh_key:", await StoredAsync(projectId));
        Assert.DoesNotContain(privateKey.Split('\n')[2], await admin.GetStringAsync(Url(slug)));

        var removed = await ConsoleWorld.PostFormAsync(admin, Url(slug), "repo-credential-clear", new() { ["Clear"] = "yes" });
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        Assert.Null(await StoredAsync(projectId));
    }

    [Fact]
    public async Task A_refused_credential_or_a_credential_in_the_repository_url_is_not_sent_back()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var owner = await world.ClientAsync("owner");

        var badToken = await ConsoleWorld.PostFormAsync(owner, Url(slug), "repo-token", new() { ["Token.Secret"] = "glpat-S3cret with space" });
        var encryptedKey = RepoCredentialApiTests.OpenSshKey("aes256-ctr");
        var badKey = await ConsoleWorld.PostFormAsync(owner, Url(slug), "repo-ssh-key", new() { ["Key.Secret"] = encryptedKey });
        var inUrl = await ConsoleWorld.PostFormAsync(owner, Url(slug), "project-general", new()
        {
            ["Input.Name"] = "X", ["Input.Slug"] = slug, ["Input.RepoUrl"] = "https://deploy:S3cretInUrl@git.example.com/x.git", ["Input.RuntimeVersion"] = "19.0",
        });

        foreach (var (response, field, says) in new[] { (badToken, "token_secret", "no spaces"), (badKey, "ssh_key", "passphrase"), (inUrl, "repo_url", "repository credential") })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
            Assert.Contains(says, ConsoleWorld.FieldBlock(html, field));
            Assert.DoesNotContain("S3cret", html);
            Assert.DoesNotContain(encryptedKey.Split('\n')[2], html);
        }
        Assert.Null(await StoredAsync(projectId));
        Assert.Equal("https://example.com/odoo.git", await world.ScalarAsync<string>("select repo_url from ops.projects where id = @projectId", new { projectId }));
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("viewer")]
    public async Task Lower_roles_get_no_card_and_cannot_post_one(string role)
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var client = await world.ClientAsync(role);
        Assert.DoesNotContain("id=\"repo-credential\"", await client.GetStringAsync(Url(slug)));

        var token = await ConsoleWorld.PostFormAsync(client, Url(slug), "repo-token", new() { ["Token.Secret"] = Token });
        var clear = await ConsoleWorld.PostFormAsync(client, Url(slug), "repo-credential-clear", new() { ["Clear"] = "yes" });
        Assert.Equal(HttpStatusCode.BadRequest, token.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, clear.StatusCode);
        Assert.Null(await StoredAsync(projectId));
    }
}
