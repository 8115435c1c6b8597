using System.Net;
using System.Text.RegularExpressions;

namespace OdooOps.Tests.Ui;

/// <summary>/app/projects/{slug}/branches over HTTP: tenant isolation, what each role is offered, and the moves themselves.</summary>
public sealed class BranchesPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static string Url(string slug) => $"/app/projects/{slug}/branches";

    [Fact]
    public async Task A_project_of_another_org_is_not_found_and_none_of_its_data_leaks()
    {
        var (projectId, slug) = await world.NewProjectAsync(world.OrgA);
        await world.ExecuteAsync("update ops.projects set name = 'Secret ERP of A', repo_url = 'https://git.a.test/secret.git' where id = @projectId", new { projectId });
        var b = await world.ClientAsync("b-owner");

        // Also when B names A's org: B is no member of it, so the current org stays B's own.
        foreach (var url in new[] { Url(slug), $"{Url(slug)}?org=org-a", $"{Url(slug)}?promote=feature-x" })
        {
            var response = await b.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("Project not found", html);
            Assert.DoesNotContain("Secret ERP of A", html);
            Assert.DoesNotContain("git.a.test", html);
            Assert.DoesNotContain("feature-x\"", html);
        }
        Assert.Equal(HttpStatusCode.OK, (await (await world.ClientAsync("viewer")).GetAsync(Url(slug))).StatusCode);
    }

    [Fact]
    public async Task A_move_posted_against_another_orgs_branch_changes_nothing()
    {
        var (aProject, _) = await world.NewProjectAsync(world.OrgA);
        var (_, bSlug) = await world.NewProjectAsync(world.OrgB);
        var aBranch = await world.BranchIdAsync(aProject, "feature-x");
        var b = await world.ClientAsync("b-owner");

        var response = await ConsoleWorld.PostFormAsync(b, Url(bSlug), "move-branch", new() { ["MoveTo"] = $"{aBranch}:staging" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("That branch no longer exists.", await response.Content.ReadAsStringAsync());
        Assert.Equal("development", await world.StageAsync(aProject, "feature-x"));
    }

    [Fact]
    public async Task An_unknown_slug_is_a_404_page()
    {
        var response = await (await world.ClientAsync("owner")).GetAsync(Url("no-such-project"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Project not found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Anonymous_visitors_are_sent_to_sign_in()
    {
        var response = await world.Anonymous().GetAsync(Url("anything"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login?returnUrl=%2Fapp%2Fprojects%2Fanything%2Fbranches", response.Headers.Location?.PathAndQuery);
    }

    [Theory]
    [InlineData("owner", true, true)]
    [InlineData("admin", true, true)]
    [InlineData("developer", true, false)]
    [InlineData("tester", false, false)]
    [InlineData("viewer", false, false)]
    public async Task Each_role_is_offered_only_the_moves_it_may_make(string role, bool sideways, bool promote)
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var html = await (await world.ClientAsync(role)).GetStringAsync(Url(slug));

        var feature = await world.BranchIdAsync(projectId, "feature-x");
        var staging = await world.BranchIdAsync(projectId, "staging");
        Assert.Equal(sideways, html.Contains($"name=\"MoveTo\" value=\"{feature}:staging\""));
        Assert.Equal(sideways, html.Contains($"name=\"MoveTo\" value=\"{staging}:development\""));
        Assert.Equal(sideways, html.Contains("value=\"move-branch\""));
        Assert.Equal(promote, html.Contains($"{Url(slug)[1..]}?promote=feature-x"));
        Assert.Equal(promote, html.Contains($"{Url(slug)[1..]}?promote=staging"));
        // Nobody is offered to move the production branch itself, nor a move to the stage a branch is already in.
        var main = await world.BranchIdAsync(projectId, "main");
        Assert.DoesNotContain($"value=\"{main}:", html);
        Assert.DoesNotContain("?promote=main", html);
        Assert.DoesNotContain($"value=\"{feature}:development\"", html);
    }

    [Fact]
    public async Task A_developer_cannot_promote_even_by_posting_directly()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var developer = await world.ClientAsync("developer");
        var feature = await world.BranchIdAsync(projectId, "feature-x");

        Assert.DoesNotContain("Move to production", await developer.GetStringAsync($"{Url(slug)}?promote=feature-x"));
        // Their move form exists (for sideways moves); a production target slipped into it is refused by the role check.
        var sneaky = await ConsoleWorld.PostFormAsync(developer, $"{Url(slug)}?promote=feature-x", "move-branch", new() { ["MoveTo"] = $"{feature}:production" });
        Assert.Equal(HttpStatusCode.Forbidden, sneaky.StatusCode);
        Assert.Contains("Your role (developer) does not allow moving feature-x from development to production.", await sneaky.Content.ReadAsStringAsync());
        Assert.Equal("development", await world.StageAsync(projectId, "feature-x"));
        Assert.Equal("production", await world.StageAsync(projectId, "main"));
    }

    [Fact]
    public async Task A_developer_moves_a_branch_to_staging_with_an_audit_row()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var feature = await world.BranchIdAsync(projectId, "feature-x");

        var response = await ConsoleWorld.PostFormAsync(await world.ClientAsync("developer"), Url(slug), "move-branch", new() { ["MoveTo"] = $"{feature}:staging" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{Url(slug)}?moved=feature-x", response.Headers.Location?.PathAndQuery);
        Assert.Equal("staging", await world.StageAsync(projectId, "feature-x"));
        Assert.Equal(1L, await world.ScalarAsync<long>("""
            select count(*) from ops.audit_log where action = 'branch.stage' and target_id = @target
               and before ->> 'stage' = 'development' and after ->> 'stage' = 'staging'
            """, new { target = feature.ToString() }));
    }

    [Fact]
    public async Task Promotion_asks_first_then_demotes_the_old_production_branch()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");
        var feature = await world.BranchIdAsync(projectId, "feature-x");

        var confirm = await admin.GetStringAsync($"{Url(slug)}?promote=feature-x");
        Assert.Contains("main</code> will move to staging.", confirm);
        Assert.Contains($"name=\"MoveTo\" value=\"{feature}:production\"", confirm);
        Assert.DoesNotContain("data-stage=", confirm); // the confirmation replaces the board
        Assert.Equal("development", await world.StageAsync(projectId, "feature-x")); // asking changes nothing

        var response = await ConsoleWorld.PostFormAsync(admin, $"{Url(slug)}?promote=feature-x", "move-branch", new() { ["MoveTo"] = $"{feature}:production" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("production", await world.StageAsync(projectId, "feature-x"));
        Assert.Equal("staging", await world.StageAsync(projectId, "main"));
        Assert.Equal(1L, await world.ScalarAsync<long>("""
            select count(*) from ops.audit_log where action = 'branch.stage' and target_id = @target
               and after ->> 'stage' = 'production' and after ->> 'replaced_branch' = 'main'
            """, new { target = feature.ToString() }));
        // A second click on the confirmation (double submit) lands on the result instead of an error page.
        var again = await admin.PostAsync($"{Url(slug)}?promote=feature-x", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "move-branch", ["MoveTo"] = $"{feature}:production",
            ["__RequestVerificationToken"] = ConsoleWorld.TokenOf(await admin.GetStringAsync(Url(slug))),
        }));
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal($"{Url(slug)}?moved=feature-x", again.Headers.Location?.PathAndQuery);
        Assert.Equal("production", await world.StageAsync(projectId, "feature-x"));
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'branch.stage' and target_id = @target", new { target = feature.ToString() }));

        var after = await admin.GetStringAsync(response.Headers.Location!.PathAndQuery);
        Assert.Contains("feature-x is now the production branch; main moved to staging.", after);
        var staging = Regex.Match(after, "<section class=\"stage stage-staging\".*?</section>", RegexOptions.Singleline).Value;
        Assert.Contains("data-branch=\"main\"", staging);
    }

    [Fact]
    public async Task A_move_without_the_antiforgery_token_is_rejected()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var feature = await world.BranchIdAsync(projectId, "feature-x");
        var response = await ConsoleWorld.PostFormAsync(await world.ClientAsync("owner"), $"{Url(slug)}?promote=feature-x", "move-branch",
            new() { ["MoveTo"] = $"{feature}:production" }, withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("development", await world.StageAsync(projectId, "feature-x"));
    }
}
