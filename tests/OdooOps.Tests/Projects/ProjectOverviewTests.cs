using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Backups;
using OdooOps.Tests.Deployments;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Projects;

/// <summary>
/// The project overview: GET /api/ops/projects/{id}/overview (every member; another organisation's project is 404)
/// and the page's quick actions, posted as a browser posts them. A viewer who posts the build form anyway (the button
/// is not offered, the token is on the page) is refused 403 and queues nothing; a developer builds production; backing
/// production up needs an admin and goes to the backups page.
/// </summary>
public sealed class ProjectOverviewTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static string Url(string slug) => $"/app/projects/{slug}";

    async Task<(Guid Id, string Slug)> ProjectWithReleaseAsync()
    {
        var (id, slug) = await world.NewProjectAsync();
        var runner = await DeploymentRows.RunnerAsync(world.Factory.Owner, world.OrgA, world.Unique("host"));
        await DeploymentRows.ReleaseAsync(world.Factory.Owner, id, "main", runner, "aaaaaaaaaaaa1111");
        await world.ExecuteAsync("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title, status)
            values (@id, 'r1', 'f1', 'critical', 'A', 'open'), (@id, 'r2', 'f2', 'warning', 'B', 'open'),
                   (@id, 'r3', 'f3', 'warning', 'C', 'open'), (@id, 'r4', 'f4', 'critical', 'D', 'resolved');
            select ops.ensure_metric_partitions(current_date - 1, 3);
            insert into ops.metric_rollups_minute (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
            select @id, b.id, m, date_trunc('minute', now()) - make_interval(mins => g), 1, g, g, g, g, date_trunc('minute', now()) - make_interval(mins => g)
              from ops.branches b, unnest(array['cpu_pct', 'mem_mb']) m, generate_series(1, 120) g
             where b.project_id = @id and b.name = 'main';
            insert into ops.metric_rollups_hour (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
            select project_id, branch_id, metric, date_trunc('hour', bucket), sum(count), sum(sum), min(min), max(max),
                   (array_agg(last order by last_ts desc))[1], max(last_ts)
              from ops.metric_rollups_minute where project_id = @id group by 1, 2, 3, 4;
            """, new { id });
        return (id, slug);
    }

    [Fact]
    public async Task The_api_gives_production_the_last_deployment_builds_advisories_and_24_hours_of_metrics()
    {
        var (id, _) = await ProjectWithReleaseAsync();
        var viewer = await world.ClientAsync("viewer");
        var response = await viewer.GetAsync($"/api/ops/projects/{id}/overview");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var o = JsonDocument.Parse(body).RootElement;

        var instance = o.GetProperty("production_instance");
        Assert.Equal(("running", true), (instance.GetProperty("state").GetString(), instance.GetProperty("is_current").GetBoolean()));
        Assert.StartsWith("http://main.", instance.GetProperty("url").GetString());
        Assert.Equal(("live", "aaaaaaaaaaaa1111"), (o.GetProperty("last_deployment").GetProperty("status").GetString(),
            o.GetProperty("last_deployment").GetProperty("commit_sha").GetString()));
        Assert.Equal((1, 2, 0), (o.GetProperty("open_advisories").GetProperty("critical").GetInt32(),
            o.GetProperty("open_advisories").GetProperty("warning").GetInt32(), o.GetProperty("open_advisories").GetProperty("info").GetInt32()));
        Assert.Equal(["production"], o.GetProperty("last_builds").EnumerateArray().Select(b => b.GetProperty("stage").GetString()).Distinct());
        var metrics = o.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("metric").GetString()!);
        Assert.Equal(["cpu_pct", "mem_mb"], metrics.Keys.Order()); // no requests were measured: left out
        Assert.InRange(metrics["cpu_pct"].GetProperty("values").GetArrayLength(), 2, 3); // 2 hours in hourly means
        Assert.Equal(1, metrics["cpu_pct"].GetProperty("last").GetDouble());
        Assert.Equal((false, false), (o.GetProperty("can_build_production").GetBoolean(), o.GetProperty("can_back_up_production").GetBoolean()));
        Assert.Equal("viewer", o.GetProperty("role").GetString());
    }

    [Fact]
    public async Task Another_organisations_project_is_not_found_by_api_or_page_and_strangers_are_refused()
    {
        var (id, slug) = await ProjectWithReleaseAsync();
        var other = await world.ClientAsync("b-owner");
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/ops/projects/{id}/overview")).StatusCode);
        var page = await other.GetAsync(Url(slug));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.DoesNotContain("aaaaaaaaaaaa", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Anonymous().GetAsync($"/api/ops/projects/{id}/overview")).StatusCode);
    }

    [Fact]
    public async Task A_viewer_posting_the_build_form_anyway_is_refused_and_nothing_is_queued()
    {
        var (id, slug) = await ProjectWithReleaseAsync();
        var viewer = await world.ClientAsync("viewer");
        var html = await viewer.GetStringAsync(Url(slug));
        Assert.DoesNotContain("Build production", html);
        Assert.DoesNotContain("Back up now", html);
        var builds = await world.ScalarAsync<long>("select count(*) from ops.builds where project_id = @id", new { id });

        foreach (var act in new[] { "build", "backup" })
        {
            var response = await ConsoleWorld.PostFormAsync(viewer, Url(slug), "project-quick-action", new() { ["Act"] = act });
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("role=\"alert\"", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(builds, await world.ScalarAsync<long>("select count(*) from ops.builds where project_id = @id", new { id }));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.backups where project_id = @id", new { id }));
        var unknown = await ConsoleWorld.PostFormAsync(viewer, Url(slug), "project-quick-action", new() { ["Act"] = "delete" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task A_developer_builds_production_and_an_admin_backs_it_up_through_the_use_cases()
    {
        var (id, slug) = await ProjectWithReleaseAsync();
        await BackupRows.HostAsync(world.Factory.Owner, id, "main");
        var developer = await world.ClientAsync("developer");
        Assert.Contains("Build production", await developer.GetStringAsync(Url(slug)));

        var built = await ConsoleWorld.PostFormAsync(developer, Url(slug), "project-quick-action", new() { ["Act"] = "build" });
        Assert.Equal(HttpStatusCode.Redirect, built.StatusCode);
        var build = await world.ScalarAsync<Guid>("""
            select b.id from ops.builds b join ops.branches br on br.id = b.branch_id
             where b.project_id = @id and br.name = 'main' and b.status = 'queued' and b.trigger = 'manual'
            """, new { id });
        Assert.EndsWith($"/app/projects/{slug}/builds/{build}", built.Headers.Location!.OriginalString);
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'build.trigger' and target_id = @b",
            new { b = build.ToString() }));

        var refused = await ConsoleWorld.PostFormAsync(developer, Url(slug), "project-quick-action", new() { ["Act"] = "backup" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        var admin = await world.ClientAsync("admin");
        var backedUp = await ConsoleWorld.PostFormAsync(admin, Url(slug), "project-quick-action", new() { ["Act"] = "backup" });
        Assert.Equal(HttpStatusCode.Redirect, backedUp.StatusCode);
        var backup = await world.ScalarAsync<Guid>("select id from ops.backups where project_id = @id and kind = 'manual'", new { id });
        Assert.EndsWith($"/app/projects/{slug}/backups?done=create&backup={backup}", backedUp.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task The_metrics_page_never_shows_another_organisations_project()
    {
        var (_, own) = await ProjectWithReleaseAsync();
        var (otherId, otherSlug) = await world.NewProjectAsync(world.OrgB);
        await world.ExecuteAsync("""
            insert into ops.metric_rollups_hour (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
            select @otherId, b.id, 'secret_metric', date_trunc('hour', now()), 1, 424242, 424242, 424242, 424242, now()
              from ops.branches b where b.project_id = @otherId and b.name = 'main'
            """, new { otherId });
        var viewer = await world.ClientAsync("viewer");
        // Org B's project slug asked for by a member of org A: the picker offers org A's projects only, and shows the first.
        var html = await viewer.GetStringAsync($"/app/metrics?project={otherSlug}&range=24h");
        Assert.DoesNotContain("secret_metric", html);
        Assert.DoesNotContain($"value=\"{otherSlug}\"", html);
        Assert.Contains($"value=\"{own}\"", html);
        var summary = await viewer.GetAsync($"/api/ops/projects/{otherId}/metrics/summary");
        Assert.Equal(HttpStatusCode.NotFound, summary.StatusCode);
    }
}
