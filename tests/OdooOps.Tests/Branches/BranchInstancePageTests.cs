using System.Net;
using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Branches;

/// <summary>
/// /app/projects/{slug}/branches/{id}/instance over HTTP: reached from the branches page; developers size development
/// and staging instances, admins production's, each change audited as the API audits it; org admins move a production or
/// staging branch to another host (the page says the instance is not moved); lower roles see the values only; another
/// tenant finds no branch and changes nothing.
/// </summary>
public sealed class BranchInstancePageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static string Url(string slug, Guid branch) => $"/app/projects/{slug}/branches/{branch}/instance";

    static Dictionary<string, string> Sizes(string workers, string cron, string memory, string cpus) => new()
    {
        ["InstanceWorkers"] = workers, ["InstanceCron"] = cron, ["InstanceMemory"] = memory, ["InstanceCpus"] = cpus,
    };

    Task<string> StoredAsync(Guid branch) => world.ScalarAsync<string>(
        "select concat_ws('/', instance_workers, instance_cron_threads, instance_memory_mb, instance_cpus, coalesce(runner_id::text, '')) from ops.branches where id = @branch",
        new { branch });

    Task<Guid> RunnerAsync(Guid? org, bool serves = true) => world.ScalarAsync<Guid>("""
        insert into ops.runners (org_id, name, token_hash, serves_instances) values (@org, @name, sha256(gen_random_uuid()::text::bytea), @serves) returning id
        """, new { org, name = world.Unique("page-host"), serves });

    Task<int> AuditCountAsync(Guid branch, string action) => world.ScalarAsync<int>(
        "select count(*)::int from ops.audit_log where action = @action and target_id = @id", new { action, id = branch.ToString() });

    [Fact]
    public async Task A_developer_reaches_it_from_the_branches_page_and_sizes_a_development_instance()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var feature = await world.BranchIdAsync(projectId, "feature-x");
        var developer = await world.ClientAsync("developer");
        Assert.Contains($"href=\"app/projects/{slug}/branches/{feature}/instance\"", await developer.GetStringAsync($"/app/projects/{slug}/branches"));

        var page = await developer.GetStringAsync(Url(slug, feature));
        Assert.Contains("value=\"2048\"", ConsoleWorld.FieldBlock(page, "memory_mb"));
        Assert.Contains("Changes apply at the instance's next start or restart", WebUtility.HtmlDecode(page));

        var refused = await ConsoleWorld.PostFormAsync(developer, Url(slug, feature), "instance-settings", Sizes("65", "1", "64", "1.5"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("workers must be between 0", ConsoleWorld.FieldBlock(html, "workers"));
        Assert.Contains("memory_mb must be between 128", ConsoleWorld.FieldBlock(html, "memory_mb"));
        Assert.Contains("value=\"65\"", ConsoleWorld.FieldBlock(html, "workers"));
        Assert.Equal("0/1/2048/1.00/", await StoredAsync(feature));

        var saved = await ConsoleWorld.PostFormAsync(developer, Url(slug, feature), "instance-settings", Sizes("2", "1", "3072", "1.5"));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal($"{Url(slug, feature)}?saved=settings", saved.Headers.Location?.PathAndQuery);
        Assert.Equal("2/1/3072/1.50/", await StoredAsync(feature));
        Assert.Equal(1, await AuditCountAsync(feature, "branch.instance_settings"));
        Assert.Contains("they apply at the instance&#x27;s next start or restart", await developer.GetStringAsync($"{Url(slug, feature)}?saved=settings"));
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("tester")]
    [InlineData("viewer")]
    public async Task Below_admin_production_s_size_is_shown_not_offered_and_a_forged_post_changes_nothing(string role)
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var main = await world.BranchIdAsync(projectId, "main");
        var client = await world.ClientAsync(role);

        var html = await client.GetStringAsync(Url(slug, main));
        Assert.Contains("<dd data-fact=\"memory_mb\">2048 MB</dd>", html);
        Assert.Contains("needs the admin role or higher", html);
        Assert.DoesNotContain("value=\"instance-settings\"", html);
        Assert.DoesNotContain("value=\"move-host\"", html);

        var forged = await ConsoleWorld.PostFormAsync(client, Url(slug, main), "instance-settings", Sizes("8", "2", "8192", "4"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("0/1/2048/1.00/", await StoredAsync(main));
        Assert.Equal(0, await AuditCountAsync(main, "branch.instance_settings"));
    }

    [Fact]
    public async Task An_owner_moves_staging_to_another_host_and_the_page_says_the_instance_stays()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var staging = await world.BranchIdAsync(projectId, "staging");
        var (target, buildsOnly, theirs) = (await RunnerAsync(world.OrgA), await RunnerAsync(world.OrgA, serves: false), await RunnerAsync(world.OrgB));
        var owner = await world.ClientAsync("owner");

        var page = WebUtility.HtmlDecode(await owner.GetStringAsync(Url(slug, staging)));
        Assert.Contains("Not pinned", page);
        Assert.Contains("The current instance is not moved:", page);
        Assert.Contains($"<option value=\"{target}\"", page);
        Assert.Matches($"<option value=\"{buildsOnly}\" disabled[^>]*>[^<]*does not serve instances", page);
        Assert.DoesNotContain(theirs.ToString(), page);

        var refused = await ConsoleWorld.PostFormAsync(owner, Url(slug, staging), "move-host", new() { ["RunnerId"] = buildsOnly.ToString() });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("does not serve instances", ConsoleWorld.FieldBlock(await refused.Content.ReadAsStringAsync(), "runner_id"));
        Assert.EndsWith("/", await StoredAsync(staging));

        var moved = await ConsoleWorld.PostFormAsync(owner, Url(slug, staging), "move-host", new() { ["RunnerId"] = target.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, moved.StatusCode);
        Assert.EndsWith($"/{target}", await StoredAsync(staging));
        Assert.Equal(1, await AuditCountAsync(staging, "branch.host"));
        var after = WebUtility.HtmlDecode(await owner.GetStringAsync($"{Url(slug, staging)}?saved=host"));
        Assert.Contains("the current instance is not moved: its filestore and database must be moved with a backup and restore", after);
        Assert.Contains($"data-runner-id=\"{target}\"", after);
    }

    [Fact]
    public async Task A_development_branch_and_a_developer_are_offered_no_move()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var feature = await world.BranchIdAsync(projectId, "feature-x");
        var staging = await world.BranchIdAsync(projectId, "staging");
        await RunnerAsync(world.OrgA);

        var ownerPage = await (await world.ClientAsync("owner")).GetStringAsync(Url(slug, feature));
        Assert.Contains("Only production and staging branches are pinned to a host", ownerPage);
        Assert.DoesNotContain("value=\"move-host\"", ownerPage);
        var developerPage = await (await world.ClientAsync("developer")).GetStringAsync(Url(slug, staging));
        Assert.Contains("move a branch to another host", developerPage);
        Assert.DoesNotContain("value=\"move-host\"", developerPage);
    }

    [Fact]
    public async Task Another_tenant_finds_no_branch_and_its_posts_change_nothing()
    {
        var (aProject, aSlug) = await world.NewProjectAsync(world.OrgA);
        var (_, bSlug) = await world.NewProjectAsync(world.OrgB);
        var aBranch = await world.BranchIdAsync(aProject, "staging");
        var runner = await RunnerAsync(world.OrgB);
        var b = await world.ClientAsync("b-owner");

        foreach (var url in new[] { Url(aSlug, aBranch), Url(bSlug, aBranch) })
        {
            var response = await b.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("Branch not found", await response.Content.ReadAsStringAsync());
        }
        // A post to B's own project naming A's branch: the form is not there, and nothing moves.
        var antiforgery = ConsoleWorld.TokenOf(await b.GetStringAsync($"/app/projects/{bSlug}/settings"));
        foreach (var (handler, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("instance-settings", Sizes("8", "2", "8192", "4")), ("move-host", new() { ["RunnerId"] = runner.ToString() }),
                 })
        {
            var form = new Dictionary<string, string>(fields) { ["_handler"] = handler, ["__RequestVerificationToken"] = antiforgery };
            var response = await b.PostAsync(Url(bSlug, aBranch), new FormUrlEncodedContent(form));
            Assert.False(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Redirect, $"{handler}: {response.StatusCode}");
        }
        Assert.Equal("0/1/2048/1.00/", await StoredAsync(aBranch));
    }
}
