using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Database;
using OdooOps.Tests.Builds;
using OdooOps.Tests.Deployments;
using OdooOps.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// Every event, produced by the change that causes it through the product's own path (the runner's functions for builds,
/// instance syncs and reverted updates, the advisory scan, a person's resolve through the API), reaches a real HTTP
/// receiver through the running server's worker: its name, id, delivery id and time in headers, the body signed
/// GitHub-style with the channel's secret, and the payload naming the organisation, project, branch, the subject and a
/// console link. Each test has a project and a receiver of its own.
/// </summary>
public sealed class NotificationEventsTests(NotificationWorld world) : IClassFixture<NotificationWorld>
{
    const string Secret = "s3cret-for-the-receiver-0123456789";

    async Task<(Guid Project, string Slug, HookReceiver Hooks)> SubscribedAsync(params string[] events)
    {
        var slug = $"p{Guid.NewGuid():N}"[..12];
        var project = await Accounts.CreateProjectAsync(world.Owner, world.Acme, slug);
        var hooks = await HookReceiver.StartAsync();
        await world.AddChannelAsync(new
        {
            name = $"hook {slug}", kind = "webhook", url = hooks.Url + "/odooops", secret = Secret, events, project_ids = new[] { project },
            min_severity = "info",
        });
        return (project, slug, hooks);
    }

    static void AssertSigned(HookReceiver.Received r, string expectedEvent)
    {
        Assert.Equal(expectedEvent, r.Header("X-OdooOps-Event"));
        Assert.True(HookReceiver.SignatureValid(r, Secret), "the signature checks with the channel's secret");
        Assert.False(HookReceiver.SignatureValid(r, Secret + "x"), "and not with another");
        Assert.Matches("^sha256=[0-9a-f]{64}$", r.Header("X-OdooOps-Signature-256"));
        Assert.Equal(r.Json.GetProperty("id").GetString(), r.Header("X-OdooOps-Event-Id"));
        Assert.True(Guid.TryParse(r.Header("X-OdooOps-Delivery"), out _));
        Assert.InRange(long.Parse(r.Header("X-OdooOps-Timestamp")), DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        Assert.True(HookReceiver.SignatureV2Valid(r, Secret, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)), "the timestamped signature checks too");
        Assert.StartsWith("application/json", r.Header("Content-Type"));
        Assert.StartsWith("OdooOps-Notifications/", r.Header("User-Agent"));
        Assert.Equal("/odooops", r.Path);
        Assert.Equal(expectedEvent, r.Json.GetProperty("event").GetString());
        Assert.Equal("acme", r.Json.GetProperty("organisation").GetProperty("slug").GetString());
    }

    [Fact]
    public async Task A_failed_build_then_a_fixed_one_are_announced_from_the_runners_result()
    {
        var (project, slug, hooks) = await SubscribedAsync("build.failed", "build.succeeded", "build.fixed");
        await using var _ = hooks;
        var runner = await TestRunner.RegisterAsync(world.Owner, world.Acme, $"r-{slug}");

        var failed = await TestRunner.QueueAsync(world.Owner, project, "main", "abcdef0123456789");
        await runner.StartAsync(failed);
        await runner.FinishAsync(failed, "failed", "odoo: exit code 1 in the update");
        var r = await hooks.WaitForEventAsync("build.failed");
        AssertSigned(r, "build.failed");
        var body = r.Json;
        Assert.Equal(slug, body.GetProperty("project").GetProperty("slug").GetString());
        Assert.Equal("main", body.GetProperty("branch").GetProperty("name").GetString());
        Assert.Equal("production", body.GetProperty("branch").GetProperty("stage").GetString());
        Assert.Equal(failed, body.GetProperty("build").GetProperty("id").GetGuid());
        Assert.Equal("failed", body.GetProperty("build").GetProperty("status").GetString());
        Assert.Equal("abcdef0123456789", body.GetProperty("build").GetProperty("commit_sha").GetString());
        Assert.Equal("Fix the invoice report", body.GetProperty("build").GetProperty("commit_message").GetString());
        Assert.Equal("odoo: exit code 1 in the update", body.GetProperty("build").GetProperty("result_detail").GetString());
        Assert.Equal($"Project {slug}: build of main failed: odoo: exit code 1 in the update", body.GetProperty("summary").GetString());
        Assert.Equal($"{NotificationWorld.PublicUrl}/app/projects/{slug}/builds/{failed}?org=acme", body.GetProperty("url").GetString());
        Assert.DoesNotContain(hooks.All, h => h.Header("X-OdooOps-Event") != "build.failed");

        var fixedBuild = await TestRunner.QueueAsync(world.Owner, project, "main", "1234567890abcdef");
        await runner.StartAsync(fixedBuild);
        await runner.FinishAsync(fixedBuild, "success");
        var fixedEvent = await hooks.WaitForEventAsync("build.fixed");
        AssertSigned(fixedEvent, "build.fixed");
        Assert.Equal(fixedBuild, fixedEvent.Json.GetProperty("build").GetProperty("id").GetGuid());
        AssertSigned(await hooks.WaitForEventAsync("build.succeeded"), "build.succeeded");

        // A second success fixes nothing: succeeded only.
        var again = await TestRunner.QueueAsync(world.Owner, project, "main", "fedcba9876543210");
        await runner.StartAsync(again);
        await runner.FinishAsync(again, "success");
        await hooks.WaitForAsync(h => h.Header("X-OdooOps-Event") == "build.succeeded" && h.Json.GetProperty("build").GetProperty("id").GetGuid() == again);
        Assert.Single(hooks.All, h => h.Header("X-OdooOps-Event") == "build.fixed");
        Assert.Equal(4, hooks.All.Count);
    }

    [Fact]
    public async Task Deployments_that_go_live_fail_or_are_reverted_are_announced()
    {
        var (project, slug, hooks) = await SubscribedAsync("deployment.succeeded", "deployment.failed", "deployment.reverted");
        await using var _ = hooks;
        var runner = await DeploymentRows.RunnerAsync(world.Owner, world.Acme, $"host-{slug}");

        var live = await DeploymentRows.ReleaseAsync(world.Owner, project, "main", runner, "aaaabbbbccccdddd");
        var r = await hooks.WaitForEventAsync("deployment.succeeded");
        AssertSigned(r, "deployment.succeeded");
        Assert.Equal(live.DeploymentId, r.Json.GetProperty("deployment").GetProperty("id").GetGuid());
        Assert.Equal("live", r.Json.GetProperty("deployment").GetProperty("status").GetString());
        Assert.Equal($"Project {slug}: aaaabbbbcccc is live on main", r.Json.GetProperty("summary").GetString());

        // A failed production update the runner undid (ops_private.record_reverted_deploy, the runner API's call).
        await using var conn = await Accounts.OpenAsync(world.Owner);
        var failedBuild = await TestRunner.QueueAsync(world.Owner, project, "main", "9999888877776666", status: "failed");
        await conn.ExecuteAsync("update ops.builds set result_detail = 'odoo: update failed' where id = @failedBuild", new { failedBuild });
        await conn.ExecuteAsync("select ops_private.record_reverted_deploy(@failedBuild, @to, null)", new { failedBuild, to = live.BuildId });
        var reverted = await hooks.WaitForEventAsync("deployment.reverted");
        AssertSigned(reverted, "deployment.reverted");
        Assert.Equal(live.BuildId, reverted.Json.GetProperty("deployment").GetProperty("reverted_to_build_id").GetGuid());
        Assert.Equal("odoo: update failed", reverted.Json.GetProperty("deployment").GetProperty("reason").GetString());

        // A development release whose instance fails before going live (the runner's sync reports it).
        var (instance, deployment) = await conn.QuerySingleAsync<(Guid, Guid)>("""
            with build as (
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, finished_at)
                select project_id, id, 'success', 'push', 'c0ffee', now() from ops.branches where project_id = @project and name = 'feature-x'
                returning id, project_id, branch_id),
            inst as (
                insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name, drop_database)
                select project_id, branch_id, id, @runner, 'development', 'oo-' || substr(md5(random()::text), 1, 12), true from build
                returning id)
            select id, ops_private.record_deployment(id) from inst
            """, new { project, runner });
        await conn.ExecuteAsync("select count(*) from ops.sync_runner_instances(@runner, null, @reports::jsonb)", new
        {
            runner, reports = JsonSerializer.Serialize(new[] { new { instance_id = instance, state = "failed", reason = "crashed 5 times in 10 minutes" } }),
        });
        var failed = await hooks.WaitForEventAsync("deployment.failed");
        AssertSigned(failed, "deployment.failed");
        Assert.Equal(deployment, failed.Json.GetProperty("deployment").GetProperty("id").GetGuid());
        Assert.Equal("feature-x", failed.Json.GetProperty("branch").GetProperty("name").GetString());
        Assert.Contains("crashed 5 times", failed.Json.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task A_failed_backup_and_a_failed_verification_are_announced()
    {
        var (project, _, hooks) = await SubscribedAsync("backup.failed", "backup.verification_failed");
        await using var _h = hooks;
        await using var conn = await Accounts.OpenAsync(world.Owner);
        var backup = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.backups (project_id, branch_id, kind, status)
            select project_id, id, 'daily', 'running' from ops.branches where project_id = @project and name = 'main' returning id
            """, new { project });
        await conn.ExecuteAsync("update ops.backups set status = 'failed', reason = 'pg_dump: disk full', finished_at = now() where id = @backup", new { backup });
        var failed = await hooks.WaitForEventAsync("backup.failed");
        AssertSigned(failed, "backup.failed");
        Assert.Equal("pg_dump: disk full", failed.Json.GetProperty("backup").GetProperty("reason").GetString());
        Assert.Equal($"{NotificationWorld.PublicUrl}/app/projects/{failed.Json.GetProperty("project").GetProperty("slug").GetString()}/backups?org=acme",
            failed.Json.GetProperty("url").GetString());

        var verified = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.backups (project_id, branch_id, kind, status, verification)
            select project_id, id, 'manual', 'succeeded', 'running' from ops.branches where project_id = @project and name = 'main' returning id
            """, new { project });
        await conn.ExecuteAsync("update ops.backups set verification = 'failed', verification_reason = 'table count 12, manifest says 14' where id = @verified",
            new { verified });
        var notVerified = await hooks.WaitForEventAsync("backup.verification_failed");
        AssertSigned(notVerified, "backup.verification_failed");
        Assert.Equal(verified, notVerified.Json.GetProperty("backup").GetProperty("id").GetGuid());
        Assert.Contains("could not be verified: table count 12", notVerified.Json.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task An_instance_that_goes_down_is_announced_once_and_its_recovery_too()
    {
        var (project, slug, hooks) = await SubscribedAsync("instance.down", "instance.recovered");
        await using var _h = hooks;
        var runner = await DeploymentRows.RunnerAsync(world.Owner, world.Acme, $"host-{slug}");
        var release = await DeploymentRows.ReleaseAsync(world.Owner, project, "main", runner);
        await using var conn = await Accounts.OpenAsync(world.Owner);
        Task SyncAsync(string state, string? reason = null) =>
            conn.ExecuteAsync("select count(*) from ops.sync_runner_instances(@runner, null, @reports::jsonb)", new
            {
                runner, reports = JsonSerializer.Serialize(new[] { new { instance_id = release.InstanceId, state, reason, http_port = 20001, restarts = 2 } }),
            });

        await SyncAsync("unhealthy", "3 health checks on /web/health failed in a row");
        var down = await hooks.WaitForEventAsync("instance.down");
        AssertSigned(down, "instance.down");
        Assert.Equal(release.InstanceId, down.Json.GetProperty("instance").GetProperty("id").GetGuid());
        Assert.Equal("unhealthy", down.Json.GetProperty("instance").GetProperty("state").GetString());
        Assert.Equal($"{NotificationWorld.PublicUrl}/app/projects/{slug}/instances/{release.InstanceId}?org=acme", down.Json.GetProperty("url").GetString());
        await SyncAsync("failed", "crashed 5 times within 10 minutes"); // still down: not announced again
        await SyncAsync("running");
        var up = await hooks.WaitForEventAsync("instance.recovered");
        AssertSigned(up, "instance.recovered");
        Assert.True(up.Json.GetProperty("instance").GetProperty("down_seconds").GetInt64() >= 0);
        Assert.Single(hooks.All, h => h.Header("X-OdooOps-Event") == "instance.down");
        Assert.Equal(2, await world.ScalarAsync<long>("select count(*) from ops.notification_deliveries where project_id = @project", new { project }));
    }

    [Fact]
    public async Task The_scan_opens_an_advisory_and_a_person_resolves_it_and_each_is_announced_above_the_least_severity()
    {
        var slug = $"p{Guid.NewGuid():N}"[..12];
        var project = await Accounts.CreateProjectAsync(world.Owner, world.Acme, slug, withBranches: false);
        await world.ExecuteAsync("insert into ops.branches (project_id, name) values (@project, 'develop')", new { project }); // none in production: a warning
        await using var hooks = await HookReceiver.StartAsync();
        await using var critical = await HookReceiver.StartAsync();
        await world.AddChannelAsync(new { name = $"adv {slug}", kind = "webhook", url = hooks.Url + "/odooops", secret = Secret,
            events = new[] { "advisory.opened", "advisory.resolved" }, project_ids = new[] { project } });
        await world.AddChannelAsync(new { name = $"crit {slug}", kind = "webhook", url = critical.Url + "/odooops", secret = Secret,
            events = new[] { "advisory.opened", "advisory.resolved" }, project_ids = new[] { project }, min_severity = "critical" });

        await using (var service = await world.Server.Services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync())
            await service.ExecuteScalarAsync<int>("select ops.advisory_scan(@project)", new { project });
        var opened = await hooks.WaitForEventAsync("advisory.opened");
        AssertSigned(opened, "advisory.opened");
        var advisory = opened.Json.GetProperty("advisory");
        Assert.Equal("no_production_branch", advisory.GetProperty("rule").GetString());
        Assert.Equal("warning", advisory.GetProperty("severity").GetString());
        Assert.False(string.IsNullOrEmpty(advisory.GetProperty("remediation").GetString()));

        using var api = world.Api("developer");
        var resolve = await api.PostAsync($"/api/ops/projects/{project}/advisories/{advisory.GetProperty("id").GetGuid()}/resolve", null);
        Assert.True(resolve.IsSuccessStatusCode, await resolve.Content.ReadAsStringAsync());
        AssertSigned(await hooks.WaitForEventAsync("advisory.resolved"), "advisory.resolved");
        Assert.Empty(critical.All); // a warning is below the second channel's least severity
        Assert.Equal(0L, await world.ScalarAsync<long>("""
            select count(*) from ops.notification_deliveries d join ops.notification_channels c on c.id = d.channel_id where c.name = @name
            """, new { name = $"crit {slug}" }));
    }
}
