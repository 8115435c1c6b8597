using System.Net;
using Dapper;
using OdooOps.Database;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;
using OdooOps.Webhooks;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Webhooks;

/// <summary>
/// A git delivery is applied once: the same delivery id (or, for GitHub, the same signed body under any other id) within
/// 24 hours is answered 200 "duplicate" and builds nothing; the webhook_deliveries job forgets older ones. A push whose
/// head commit is older than one the branch already has (a replayed or late delivery) queues its build but cancels
/// nothing newer.
/// </summary>
public sealed class HookReplayTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    HttpClient Http => world.Client(null);

    [Fact]
    public async Task A_replayed_github_delivery_builds_nothing_even_under_another_delivery_id()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var body = GitHubPush("refs/heads/main", Sha('a'));
        var delivery = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(Http, project, secret, body, delivery: delivery)).Status);
        // The build ran meanwhile, so an applied replay would queue a second one.
        await ScalarAsync<int>(world, "update ops.builds set status = 'success', finished_at = now() where project_id = @project returning 1", new { project });
        var before = await StateAsync(world);

        foreach (var replay in new[] { delivery, Guid.NewGuid().ToString() }) // the host's redelivery; an attacker's copy with a fresh id
        {
            var reply = await GitHubAsync(Http, project, secret, body, delivery: replay);
            Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
            Assert.Equal("duplicate", reply.Json.GetProperty("outcome").GetString());
        }
        Assert.Equal(before, await StateAsync(world));
        Assert.Equal(1, await ScalarAsync<int>(world, "select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task A_repeated_gitlab_delivery_builds_nothing()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var key = Guid.NewGuid().ToString();
        var first = await GitLabAsync(Http, project, secret, GitLabPush("refs/heads/main", Sha('b'), (Sha('b'), "m")), headers: (GitLabHook.IdempotencyHeader, key));
        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        await ScalarAsync<int>(world, "update ops.builds set status = 'success', finished_at = now() where project_id = @project returning 1", new { project });
        var before = await StateAsync(world);

        var again = await GitLabAsync(Http, project, secret, GitLabPush("refs/heads/main", Sha('b'), (Sha('b'), "m")), headers: (GitLabHook.IdempotencyHeader, key));
        Assert.Equal(before, await StateAsync(world));
        var eventId = Guid.NewGuid().ToString(); // older GitLab: the event's UUID
        var byEvent = await GitLabAsync(Http, project, secret, GitLabPush("refs/heads/main", Sha('c'), (Sha('c'), "m")), headers: (GitLabHook.EventUuidHeader, eventId));
        var byEventAgain = await GitLabAsync(Http, project, secret, GitLabPush("refs/heads/main", Sha('c'), (Sha('c'), "m")), headers: (GitLabHook.EventUuidHeader, eventId));

        Assert.Equal(("duplicate", HttpStatusCode.OK), (again.Json.GetProperty("outcome").GetString(), again.Status));
        Assert.Equal(HttpStatusCode.Accepted, byEvent.Status);
        Assert.Equal("duplicate", byEventAgain.Json.GetProperty("outcome").GetString());
        Assert.Equal(2, await ScalarAsync<int>(world, "select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task A_delivery_is_forgotten_after_24_hours_by_the_webhook_deliveries_job()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var body = GitHubPush("refs/heads/feature-x", Sha('d'));
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(Http, project, secret, body)).Status);
        await ScalarAsync<int>(world, "update ops.builds set status = 'success', finished_at = now() where project_id = @project returning 1", new { project });
        await ScalarAsync<int>(world, "update ops_private.webhook_deliveries set received_at = now() - interval '25 hours' where project_id = @project returning 1", new { project });

        var now = DateTimeOffset.UtcNow;
        await using (var node = new SchedulerNode(await LoginRoles.EnsureAsync(world.Factory.Owner), new ManualClock(now), [WebhookDeliveryJob.Job]))
        {
            var tick = await node.Scheduler.RunTickAsync("webhook_deliveries", now);
            Assert.Equal(OdooOps.Scheduler.SchedulerService.TickOutcome.Success, tick.Outcome);
        }
        Assert.Equal(0, await ScalarAsync<int>(world, "select count(*) from ops_private.webhook_deliveries where project_id = @project", new { project }));

        // Past the window a delivery is a push like any other (its own old commit then builds again).
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(Http, project, secret, body)).Status);
    }

    [Fact]
    public async Task A_push_older_than_the_branch_newest_commit_cancels_no_newer_queued_build()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var newer = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('2'), timestamp: "2026-03-02T10:00:00+00:00"));
        var newerBuild = newer.Json.GetProperty("build_id").GetGuid();

        // A late (or replayed) delivery of an older push of the same branch.
        var older = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('1'), timestamp: "2026-03-01T10:00:00+00:00"));
        Assert.True(older.Status == HttpStatusCode.Accepted, older.ToString());
        Assert.Empty(older.Json.GetProperty("cancelled_build_ids").EnumerateArray());
        Assert.Equal("queued", await StatusAsync(newerBuild));
        Assert.True(await ScalarAsync<bool>(world,
            "select (after->>'kept_newer_builds')::boolean from ops.audit_log where target_id = @id and action = 'build.trigger'",
            new { id = older.Json.GetProperty("build_id").GetGuid().ToString() }));

        // Also when the newer commit's build has finished already: it is still the branch's newest.
        await ScalarAsync<int>(world, "update ops.builds set status = 'success', finished_at = now() where id = @newerBuild returning 1", new { newerBuild });
        var olderBuild = older.Json.GetProperty("build_id").GetGuid();
        var oldest = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('5'), timestamp: "2026-02-28T10:00:00+00:00"));
        Assert.Empty(oldest.Json.GetProperty("cancelled_build_ids").EnumerateArray());
        Assert.Equal("queued", await StatusAsync(olderBuild));

        // A push newer than all of them supersedes the queued ones as before.
        var newest = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('3'), timestamp: "2026-03-03T10:00:00+00:00"));
        Assert.Equal([olderBuild, oldest.Json.GetProperty("build_id").GetGuid()],
            newest.Json.GetProperty("cancelled_build_ids").EnumerateArray().Select(e => e.GetGuid()).ToArray());
        Assert.Equal("2026-03-03T10:00:00Z", await ScalarAsync<string>(world,
            "select to_char(commit_at at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') from ops.builds where id = @id",
            new { id = newest.Json.GetProperty("build_id").GetGuid() }));
    }

    async Task<string> StatusAsync(Guid build) => await ScalarAsync<string>(world, "select status from ops.builds where id = @build", new { build });
}
