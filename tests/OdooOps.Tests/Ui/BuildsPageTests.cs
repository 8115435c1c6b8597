using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Builds;

namespace OdooOps.Tests.Ui;

/// <summary>/app/projects/{slug}/builds and …/builds/{id} over HTTP: lists, filters, tenants, what each role is offered, cancel and rebuild.</summary>
public sealed class BuildsPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static string ListUrl(string slug) => $"/app/projects/{slug}/builds";
    static string BuildUrl(string slug, Guid build) => $"/app/projects/{slug}/builds/{build}";

    static int Rows(string html) => Regex.Matches(html, "<tr data-build-id=").Count;

    [Fact]
    public async Task The_list_shows_builds_newest_first_with_filters_and_pages()
    {
        var (project, slug) = await world.NewProjectAsync();
        var failed = await TestRunner.QueueAsync(world.Factory.Owner, project, "staging", "dead01", status: "failed");
        for (var i = 0; i < 26; i++) await TestRunner.QueueAsync(world.Factory.Owner, project, "main", $"{i:x6}", status: "success");
        var viewer = await world.ClientAsync("viewer");

        var html = await viewer.GetStringAsync(ListUrl(slug));
        Assert.Equal(25, Rows(html));
        Assert.Contains("rel=\"next\"", html);
        Assert.Contains("class=\"tab active\" href=\"app/projects/" + slug + "/builds\"", html);
        Assert.Contains($"<a class=\"nav-item active\" href=\"app/projects/{slug}/builds\"", html); // the sidebar section, for this project
        var next = WebUtility.HtmlDecode(Regex.Match(html, "href=\"([^\"]+)\" rel=\"next\"|rel=\"next\" href=\"([^\"]+)\"").Groups.Values.Skip(1).First(g => g.Success).Value);
        var older = await viewer.GetStringAsync("/" + next);
        Assert.Equal(2, Rows(older));
        Assert.Contains(failed.ToString(), older); // the oldest is on the second page

        var staging = await viewer.GetStringAsync($"{ListUrl(slug)}?branch=staging");
        Assert.Equal(1, Rows(staging));
        Assert.Contains($"href=\"app/projects/{slug}/builds/{failed}\"", staging);
        Assert.Contains("class=\"badge danger\" data-status=\"failed\"", staging);
        Assert.Contains("dead01", staging);
        Assert.Contains("Fix the invoice report", staging); // the commit's subject line only
        Assert.DoesNotContain("Long body", staging);

        Assert.Equal(1, Rows(await viewer.GetStringAsync($"{ListUrl(slug)}?status=failed")));
        Assert.Equal(0, Rows(await viewer.GetStringAsync($"{ListUrl(slug)}?status=failed&branch=main")));
        // Unknown filters are dropped, not echoed.
        var odd = await viewer.GetStringAsync($"{ListUrl(slug)}?status=%3Cb%3Ebogus&cursor=zzz");
        Assert.Equal(25, Rows(odd));
        Assert.DoesNotContain("<b>bogus", odd);
    }

    [Fact]
    public async Task Another_orgs_project_or_build_is_not_found_and_nothing_leaks()
    {
        var (aProject, aSlug) = await world.NewProjectAsync(world.OrgA);
        var aBuild = await TestRunner.QueueAsync(world.Factory.Owner, aProject, "main", "5ec7e7");
        var (_, bSlug) = await world.NewProjectAsync(world.OrgB);
        var b = await world.ClientAsync("b-owner");

        foreach (var url in new[] { ListUrl(aSlug), BuildUrl(aSlug, aBuild), BuildUrl(bSlug, aBuild), $"{BuildUrl(aSlug, aBuild)}?org=org-a" })
        {
            var response = await b.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("5ec7e7", html);
            Assert.DoesNotContain("Fix the invoice report", html);
        }
        // A build of another project of the same org is not shown under this one either.
        var (_, otherSlug) = await world.NewProjectAsync(world.OrgA);
        var wrongProject = await (await world.ClientAsync("owner")).GetAsync(BuildUrl(otherSlug, aBuild));
        Assert.Equal(HttpStatusCode.NotFound, wrongProject.StatusCode);
        Assert.Contains("Build not found", await wrongProject.Content.ReadAsStringAsync());

        var anonymous = await world.Anonymous().GetAsync(BuildUrl(aSlug, aBuild));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login?returnUrl=", anonymous.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task The_build_page_shows_steps_modules_and_the_log_with_colours_and_escaped_markup()
    {
        var (project, slug) = await world.NewProjectAsync();
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, "feature-x");
        var runner = await TestRunner.RegisterAsync(world.Factory.Owner, world.OrgA, "runner-42");
        await runner.StartAsync(build);
        await runner.RecordSourceAsync(build, "0123456789abcdef", "Add sale_extra",
            """[{"name": "sale_extra", "path": "sale_extra", "title": "Sale Extra", "version": "17.0.1.0", "depends": ["sale", "stock"], "installable": true}]""");
        await runner.StepAsync(build, 0, "checkout", "success", 0, 2500);
        await runner.StepAsync(build, 1, "install", "running");
        await runner.AppendAsync(build, ("system", "Checking out"), ("stdout", "\u001b[1;31mERROR\u001b[0m <script>alert(1)</script>"), ("stderr", "warn"));

        var html = await (await world.ClientAsync("viewer")).GetStringAsync(BuildUrl(slug, build));

        Assert.Contains("data-build-status=\"running\"", html);
        Assert.Contains("class=\"badge progress\" data-status=\"running\"", html);
        Assert.Contains("runner-42", html);
        Assert.Contains("01234567", html);
        Assert.Contains("data-step-seq=\"0\"", html);
        Assert.Contains("2.5 s", html);
        Assert.Contains("data-module=\"sale_extra\"", html);
        Assert.Contains("sale, stock", html);
        Assert.Contains("<span class=\"ansi-bold ansi-fg-1\">ERROR</span>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.DoesNotContain("<script>alert(1)", html);
        Assert.DoesNotContain("\u001b", html);
        Assert.Contains("class=\"log-line stream-stderr\" data-seq=\"2\"", html);
        Assert.Contains($"data-stream=\"api/ops/builds/{build}/logs/stream\" data-after=\"2\" data-finished=\"false\"", html);
        Assert.Contains("src=\"js/build-log.js\"", html);
        Assert.DoesNotContain("id=\"cancel-build\"", html); // a viewer is offered no buttons
        Assert.DoesNotContain("id=\"rebuild-build\"", html);

        await runner.FinishAsync(build, "timed_out", "The install step ran past its 30 min limit.");
        var done = await (await world.ClientAsync("viewer")).GetStringAsync(BuildUrl(slug, build));
        Assert.Contains("class=\"badge expired\" data-status=\"timed_out\"", done);
        Assert.Contains("ran past its 30 min limit", done);
        Assert.DoesNotContain("build-log.js", done); // nothing more will come
    }

    [Theory]
    [InlineData("developer", "main", true)]
    [InlineData("tester", "staging", true)]
    [InlineData("tester", "main", false)]
    [InlineData("viewer", "feature-x", false)]
    public async Task Buttons_follow_the_build_rights_of_the_branch(string role, string branch, bool offered)
    {
        var (project, slug) = await world.NewProjectAsync();
        var queued = await TestRunner.QueueAsync(world.Factory.Owner, project, branch);
        var finished = await TestRunner.QueueAsync(world.Factory.Owner, project, branch, "abcd01", status: "success");
        var client = await world.ClientAsync(role);

        var html = await client.GetStringAsync(BuildUrl(slug, queued));
        Assert.Equal(offered, html.Contains("id=\"cancel-build\""));
        Assert.Equal(offered, html.Contains("id=\"rebuild-build\""));
        var done = await client.GetStringAsync(BuildUrl(slug, finished));
        Assert.DoesNotContain("id=\"cancel-build\"", done); // nothing to cancel
        Assert.Equal(offered, done.Contains("id=\"rebuild-build\""));
    }

    [Fact]
    public async Task Cancel_posts_with_antiforgery_and_redirects_to_the_cancelled_build()
    {
        var (project, slug) = await world.NewProjectAsync();
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, "feature-x");
        var developer = await world.ClientAsync("developer");

        var forged = await ConsoleWorld.PostFormAsync(developer, BuildUrl(slug, build), "cancel-build", new(), withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("queued", await world.ScalarAsync<string>("select status from ops.builds where id = @build", new { build }));

        var response = await ConsoleWorld.PostFormAsync(developer, BuildUrl(slug, build), "cancel-build", new());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.EndsWith($"{BuildUrl(slug, build)}?cancel=done", response.Headers.Location?.ToString());
        Assert.Equal("cancelled", await world.ScalarAsync<string>("select status from ops.builds where id = @build", new { build }));
        Assert.Equal(1, await world.ScalarAsync<int>("select count(*) from ops.audit_log where action = 'build.cancel' and target_id = @id", new { id = build.ToString() }));
        Assert.Contains("The build is cancelled.", await developer.GetStringAsync($"{BuildUrl(slug, build)}?cancel=done"));

        // A second click, arriving after the build finished, is answered with the reason rather than an error page.
        var again = await developer.PostAsync(BuildUrl(slug, build), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "cancel-build",
            ["__RequestVerificationToken"] = ConsoleWorld.TokenOf(await developer.GetStringAsync(BuildUrl(slug, build))),
        }));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already finished (cancelled)", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Rebuild_posts_and_lands_on_the_new_build()
    {
        var (project, slug) = await world.NewProjectAsync();
        var source = await TestRunner.QueueAsync(world.Factory.Owner, project, "staging", "c0de42", status: "failed");
        var tester = await world.ClientAsync("tester");

        var response = await ConsoleWorld.PostFormAsync(tester, BuildUrl(slug, source), "rebuild-build", new());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var rebuilt = await world.ScalarAsync<Guid>("select id from ops.builds where project_id = @project and trigger = 'rebuild'", new { project });
        Assert.EndsWith(BuildUrl(slug, rebuilt), response.Headers.Location?.ToString());
        Assert.Equal("c0de42", await world.ScalarAsync<string>("select commit_sha from ops.builds where id = @rebuilt", new { rebuilt }));
    }
}
