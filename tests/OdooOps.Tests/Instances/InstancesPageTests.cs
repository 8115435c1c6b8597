using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Instances;

/// <summary>/app/projects/{slug}/instances and …/instances/{id} over HTTP: what each role sees and is offered, the
/// production confirmation, antiforgery, tenants, the log's filter and the sparklines.</summary>
public sealed class InstancesPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static string ListUrl(string slug) => $"/app/projects/{slug}/instances";
    static string PageUrl(string slug, Guid instance) => $"/app/projects/{slug}/instances/{instance}";

    Task<string> AskedAsync(Guid instance) =>
        world.ScalarAsync<string>("select desired || ':' || restart_generation from ops.instances where id = @instance", new { instance });

    static string Row(string html, Guid instance) =>
        Regex.Match(html, $"<tr data-instance-id=\"{instance}\".*?</tr>", RegexOptions.Singleline) is { Success: true } m ? m.Value
            : throw new InvalidOperationException($"no row for {instance}");

    [Fact]
    public async Task The_table_shows_state_url_release_and_uptime_and_a_viewer_no_buttons()
    {
        var (project, slug) = await world.NewProjectAsync();
        var main = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main", new(Commit: "abcdef0123456789", Restarts: 2));
        var feature = await InstanceRows.InsertAsync(world.Factory.Owner, project, "feature-x", new(State: "failed", Reason: "crashed <5> times"));
        var label = await world.ScalarAsync<string>("select host_label from ops.projects where id = @project", new { project });
        var build = await world.ScalarAsync<Guid>("select build_id from ops.instances where id = @main", new { main });

        var html = await (await world.ClientAsync("viewer")).GetStringAsync(ListUrl(slug));

        var row = Row(html, main);
        Assert.Contains($"<a class=\"btn small connect\" href=\"http://main.{label}.localhost\" target=\"_blank\" rel=\"noopener\">Connect</a>", row);
        Assert.Contains("class=\"badge success\" data-status=\"running\"", row);
        Assert.Contains($"href=\"app/projects/{slug}/builds/{build}\"", row);
        Assert.Contains("abcdef01", row);
        Assert.Matches(@"data-label=""Uptime"" class=""nowrap"">3 min \d\d s<", row);
        Assert.Contains($"href=\"app/projects/{slug}/instances/{main}\"", row);
        var failed = Row(html, feature);
        Assert.Contains("class=\"badge danger\" data-status=\"failed\"", failed);
        Assert.Contains("crashed &lt;5&gt; times", failed);
        Assert.DoesNotContain("name=\"Act\"", html);
        Assert.DoesNotContain("data-action=", html);
        Assert.Contains($"class=\"tab active\" href=\"app/projects/{slug}/instances\"", html);
        Assert.Contains($"<a class=\"nav-item active\" href=\"app/projects/{slug}/instances\"", html);
        Assert.Contains("As viewer, you can see the instances", html);
    }

    [Fact]
    public async Task A_project_without_instances_says_how_to_get_one()
    {
        var (_, slug) = await world.NewProjectAsync();
        var html = await (await world.ClientAsync("developer")).GetStringAsync(ListUrl(slug));
        Assert.Contains("No instances yet", html);
        Assert.Contains("Push to a branch: every successful build starts an instance", html);
    }

    [Fact]
    public async Task A_tester_is_offered_staging_and_development_and_a_developer_production_behind_a_confirmation()
    {
        var (project, slug) = await world.NewProjectAsync();
        var main = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main");
        var staging = await InstanceRows.InsertAsync(world.Factory.Owner, project, "staging", new(Desired: "stopped", State: "stopped"));

        var tester = await (await world.ClientAsync("tester")).GetStringAsync(ListUrl(slug));
        Assert.DoesNotContain("data-action", Row(tester, main));
        Assert.Contains($"name=\"Act\" value=\"{staging}:start\"", Row(tester, staging)); // stopped: start only

        var developer = await (await world.ClientAsync("developer")).GetStringAsync(ListUrl(slug));
        var production = Row(developer, main);
        Assert.Contains($"href=\"app/projects/{slug}/instances?confirm={main}%3Arestart\" data-action=\"restart\">Restart…</a>", production);
        Assert.Contains($"?confirm={main}%3Astop\" data-action=\"stop\">Stop…</a>", production);
        Assert.DoesNotContain("name=\"Act\"", production); // no one-click stop of production
    }

    [Fact]
    public async Task A_staging_restart_posts_redirects_and_is_audited()
    {
        var (project, slug) = await world.NewProjectAsync();
        var staging = await InstanceRows.InsertAsync(world.Factory.Owner, project, "staging");
        var tester = await world.ClientAsync("tester");

        var forged = await ConsoleWorld.PostFormAsync(tester, ListUrl(slug), "instance-action", new() { ["Act"] = $"{staging}:restart" }, withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("running:0", await AskedAsync(staging));

        var response = await ConsoleWorld.PostFormAsync(tester, ListUrl(slug), "instance-action", new() { ["Act"] = $"{staging}:restart" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.EndsWith($"{ListUrl(slug)}?done=restart&instance={staging}", response.Headers.Location?.ToString());
        Assert.Equal("running:1", await AskedAsync(staging));
        Assert.Equal(1, await world.ScalarAsync<int>("select count(*) from ops.audit_log where action = 'instance.restart' and target_id = @id", new { id = staging.ToString() }));
        Assert.Contains("Restart requested for staging", await tester.GetStringAsync($"{ListUrl(slug)}?done=restart&instance={staging}"));
    }

    [Fact]
    public async Task Production_stop_needs_the_confirmation_step_and_a_tester_cannot_post_it_anyway()
    {
        var (project, slug) = await world.NewProjectAsync();
        var main = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main");
        var developer = await world.ClientAsync("developer");

        // The button's post without the confirmation only shows the confirmation.
        var unconfirmed = await ConsoleWorld.PostFormAsync(developer, ListUrl(slug), "instance-action", new() { ["Act"] = $"{main}:stop" });
        Assert.Equal(HttpStatusCode.OK, unconfirmed.StatusCode);
        Assert.Contains("Stop the production instance of", await unconfirmed.Content.ReadAsStringAsync());
        Assert.Equal("running:0", await AskedAsync(main));

        var confirmUrl = $"{ListUrl(slug)}?confirm={main}%3Astop";
        var card = await developer.GetStringAsync(confirmUrl);
        Assert.Contains("The site stops answering until someone starts it again.", card);
        Assert.Contains($"href=\"app/projects/{slug}/instances\">Cancel</a>", card);
        var confirmed = await ConsoleWorld.PostFormAsync(developer, confirmUrl, "instance-action", new() { ["Act"] = $"{main}:stop", ["Confirmed"] = "yes" });
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal("stopped:0", await AskedAsync(main));

        // A tester sees no button, and a post made by hand is refused in the database's words.
        var tester = await world.ClientAsync("tester");
        var refused = await ConsoleWorld.PostFormAsync(tester, ListUrl(slug), "instance-action", new() { ["Act"] = $"{main}:start", ["Confirmed"] = "yes" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("needs the developer role or higher; you are tester.", await refused.Content.ReadAsStringAsync());
        Assert.Equal("stopped:0", await AskedAsync(main));
    }

    [Fact]
    public async Task Another_orgs_instances_are_not_found_and_nothing_leaks()
    {
        var (aProject, aSlug) = await world.NewProjectAsync(world.OrgA);
        var instance = await InstanceRows.InsertAsync(world.Factory.Owner, aProject, "main", new(Commit: "5ec7e75ec7e7"));
        var (bProject, bSlug) = await world.NewProjectAsync(world.OrgB);
        await InstanceRows.InsertAsync(world.Factory.Owner, bProject, "main"); // so that B's page has the form to post to
        var b = await world.ClientAsync("b-owner");
        foreach (var url in new[] { ListUrl(aSlug), PageUrl(aSlug, instance), PageUrl(bSlug, instance) })
        {
            var response = await b.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("5ec7e75e", await response.Content.ReadAsStringAsync());
        }
        var refused = await ConsoleWorld.PostFormAsync(b, ListUrl(bSlug), "instance-action", new() { ["Act"] = $"{instance}:restart" });
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("running:0", await AskedAsync(instance));
        var (_, otherSlug) = await world.NewProjectAsync(world.OrgA);
        Assert.Equal(HttpStatusCode.NotFound, (await (await world.ClientAsync("owner")).GetAsync(PageUrl(otherSlug, instance))).StatusCode);
    }

    [Fact]
    public async Task The_instance_page_shows_its_facts_and_the_filtered_log_with_its_live_stream()
    {
        var (project, slug) = await world.NewProjectAsync();
        var instance = await InstanceRows.InsertAsync(world.Factory.Owner, project, "staging", new(Restarts: 3));
        await InstanceRows.AppendAsync(world.Factory.Owner, instance, ("INFO", "loading <b>invoice</b>"), ("ERROR", "boom \u001b[31mred\u001b[0m"), ("INFO", "later"));
        var viewer = await world.ClientAsync("viewer");

        var html = await viewer.GetStringAsync(PageUrl(slug, instance));
        Assert.Contains("data-fact=\"restarts\">3<", html);
        Assert.Contains("class=\"btn primary connect\"", html);
        Assert.Contains("&lt;b&gt;invoice&lt;/b&gt;", html);
        Assert.Contains("<div class=\"log-line level-error\" data-seq=\"1\">", html);
        Assert.Contains("boom red", html); // colour codes stripped
        Assert.Contains($"data-stream=\"api/ops/instances/{instance}/logs/stream\" data-after=\"2\"", html);
        Assert.Contains("src=\"js/instance-log.js\"", html);

        var errors = await viewer.GetStringAsync($"{PageUrl(slug, instance)}?level=ERROR&q=BOOM");
        Assert.Single(Regex.Matches(errors, "<div class=\"log-line"));
        Assert.Contains($"data-stream=\"api/ops/instances/{instance}/logs/stream?level=ERROR&amp;q=BOOM\" data-after=\"1\"", errors);
        Assert.Contains("<option value=\"ERROR\" selected", errors);

        var odd = await viewer.GetStringAsync($"{PageUrl(slug, instance)}?level=%3Cb%3ELOUD");
        Assert.Equal(3, Regex.Matches(odd, "<div class=\"log-line").Count); // a filter that is not one is dropped, not echoed
        Assert.DoesNotContain("<b>LOUD", odd);
    }

    [Fact]
    public async Task The_last_hours_cpu_and_memory_draw_sparklines()
    {
        var (project, slug) = await world.NewProjectAsync();
        var main = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main");
        await world.ExecuteAsync("""
            insert into ops.metric_rollups_minute (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
            select @project, b.id, m.metric, date_trunc('minute', now()) - make_interval(mins => i), 1, m.base + i, m.base + i, m.base + i, m.base + i,
                   date_trunc('minute', now()) - make_interval(mins => i)
              from ops.branches b, generate_series(0, 9) i, (values ('cpu_pct', 10), ('mem_mb', 900)) m(metric, base)
             where b.project_id = @project and b.name = 'main'
            """, new { project });

        var row = Row(await (await world.ClientAsync("viewer")).GetStringAsync(ListUrl(slug)), main);
        Assert.Matches("<span class=\"sparkline\" data-metric=\"cpu\"><svg[^>]*aria-label=\"CPU over the last hour, now 10%\"[^>]*><polyline points=\"[0-9., ]+\"", row);
        Assert.Contains("now 900 MB", row);
    }
}
