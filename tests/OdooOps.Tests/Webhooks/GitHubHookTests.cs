using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Webhooks;

/// <summary>POST /hooks/github/{project}: what a signed push, deletion, ping and tag push do to branches and builds.</summary>
public sealed class GitHubHookTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    HttpClient Http => world.Client(null);

    [Fact]
    public async Task A_push_to_a_new_branch_creates_it_at_development_and_queues_a_push_build_of_the_commit()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var reply = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature/invoices", Sha('a'), "Invoices: fix rounding\n\nLonger text."));

        Assert.True(reply.Status == HttpStatusCode.Accepted, reply.ToString());
        var json = reply.Json;
        Assert.Equal("queued", json.GetProperty("outcome").GetString());
        Assert.True(json.GetProperty("branch_created").GetBoolean());
        var buildId = json.GetProperty("build_id").GetGuid();

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var branch = await conn.QuerySingleAsync<(string Stage, bool IsProduction, DateTime? ArchivedAt)>(
            "select stage, is_production, archived_at from ops.branches where project_id = @project and name = 'feature/invoices'", new { project });
        Assert.Equal(("development", false, (DateTime?)null), branch);
        var build = await conn.QuerySingleAsync<(string Status, string Trigger, string CommitSha, string CommitMessage, Guid? TriggeredBy, string Branch)>("""
            select b.status, b.trigger, b.commit_sha, b.commit_message, b.triggered_by, br.name
              from ops.builds b join ops.branches br on br.id = b.branch_id where b.id = @buildId
            """, new { buildId });
        Assert.Equal(("queued", "push", Sha('a'), "Invoices: fix rounding\n\nLonger text.", (Guid?)null, "feature/invoices"), build);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from ops.run_queue where build_id = @buildId", new { buildId }));

        // Audited without a user, saying where it came from.
        var audit = (await conn.QueryAsync<(string Action, Guid? Actor, string ActorKind, string Detail)>("""
            select action, actor_user_id, actor, after->>'detail' from ops.audit_log where project_id = @project and actor = 'webhook' order by id
            """, new { project })).ToList();
        Assert.Equal([("branch.create", null, "webhook", "github push"), ("build.trigger", null, "webhook", "github push")], audit);
    }

    [Fact]
    public async Task The_same_commit_again_answers_the_build_already_queued()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var first = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/main", Sha('b')));
        Assert.Equal(HttpStatusCode.Accepted, first.Status);

        var again = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/main", Sha('b'))); // pushed again: another delivery
        Assert.True(again.Status == HttpStatusCode.OK, again.ToString());
        Assert.Equal("already_queued", again.Json.GetProperty("outcome").GetString());
        Assert.Equal(first.Json.GetProperty("build_id").GetGuid(), again.Json.GetProperty("build_id").GetGuid());
        Assert.Equal(1, await ScalarAsync<int>(world, "select count(*) from ops.builds where project_id = @project", new { project }));

        // Also while it runs.
        await ScalarAsync<int>(world, "update ops.builds set status = 'running', started_at = now() where project_id = @project returning 1", new { project });
        var running = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/main", Sha('b')));
        Assert.Equal(HttpStatusCode.OK, running.Status);
        Assert.Equal("running", running.Json.GetProperty("build_status").GetString());
    }

    [Fact]
    public async Task A_newer_commit_cancels_the_branch_queued_builds_of_older_commits_but_not_running_ones_or_other_branches()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var older = (await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('1')))).Json.GetProperty("build_id").GetGuid();
        var running = (await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('2')))).Json.GetProperty("build_id").GetGuid();
        Assert.Equal("cancelled", await StatusAsync(older)); // superseded by the second push already
        await ScalarAsync<int>(world, "update ops.builds set status = 'running', started_at = now() where id = @running returning 1", new { running });
        var queuedOlder = (await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('3')))).Json.GetProperty("build_id").GetGuid();
        var otherBranch = (await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature-x", Sha('4')))).Json.GetProperty("build_id").GetGuid();

        var newest = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/staging", Sha('5')));
        Assert.Equal(HttpStatusCode.Accepted, newest.Status);
        Assert.Equal([queuedOlder], newest.Json.GetProperty("cancelled_build_ids").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal("cancelled", await StatusAsync(queuedOlder));
        Assert.Equal("running", await StatusAsync(running));
        Assert.Equal("queued", await StatusAsync(otherBranch));
        Assert.Equal("queued", await StatusAsync(newest.Json.GetProperty("build_id").GetGuid()));
        Assert.Equal(0, await ScalarAsync<int>(world, "select count(*) from ops.run_queue where build_id = @queuedOlder", new { queuedOlder }));
        Assert.StartsWith("Superseded by a push of 5555", await ScalarAsync<string>(world, "select result_detail from ops.builds where id = @queuedOlder", new { queuedOlder }));
    }

    [Fact]
    public async Task A_deleted_branch_is_archived_and_its_queued_builds_cancelled()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var build = (await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature-x", Sha('c')))).Json.GetProperty("build_id").GetGuid();

        var deleted = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature-x", Zero, before: Sha('c')));
        Assert.True(deleted.Status == HttpStatusCode.OK, deleted.ToString());
        Assert.Equal("archived", deleted.Json.GetProperty("outcome").GetString());
        Assert.True(await ScalarAsync<bool>(world, "select archived_at is not null from ops.branches where project_id = @project and name = 'feature-x'", new { project }));
        Assert.Equal("cancelled", await StatusAsync(build));
        Assert.Equal("github push", await ScalarAsync<string>(world,
            "select after->>'detail' from ops.audit_log where project_id = @project and action = 'branch.archive' and actor_user_id is null", new { project }));

        // Pushed again later: the branch is back, at development.
        var back = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature-x", Sha('d')));
        Assert.Equal(HttpStatusCode.Accepted, back.Status);
        Assert.False(await ScalarAsync<bool>(world, "select archived_at is not null from ops.branches where project_id = @project and name = 'feature-x'", new { project }));
    }

    [Fact]
    public async Task Deleting_the_production_branch_or_an_unknown_one_changes_nothing()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var before = await StateAsync(world);
        foreach (var branch in new[] { "main", "never-pushed" })
        {
            var reply = await GitHubAsync(Http, project, secret, GitHubPush($"refs/heads/{branch}", Zero, before: Sha('e')));
            Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
            Assert.Equal("ignored", reply.Json.GetProperty("outcome").GetString());
        }
        Assert.Equal(before, await StateAsync(world));
    }

    [Fact]
    public async Task Ping_tag_pushes_and_other_events_answer_200_and_change_nothing()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var before = await StateAsync(world);

        var ping = await GitHubAsync(Http, project, secret, """{"zen": "Keep it logically awesome.", "hook_id": 1}""", githubEvent: "ping");
        Assert.True(ping.Status == HttpStatusCode.OK, ping.ToString());
        Assert.Equal("pong", ping.Json.GetProperty("outcome").GetString());

        var tag = await GitHubAsync(Http, project, secret, GitHubPush("refs/tags/v1.0", Sha('f')));
        Assert.Equal(HttpStatusCode.OK, tag.Status);
        Assert.Equal("ignored", tag.Json.GetProperty("outcome").GetString());
        Assert.Contains("Tag", tag.Json.GetProperty("message").GetString());

        var issue = await GitHubAsync(Http, project, secret, """{"action": "opened"}""", githubEvent: "issues");
        Assert.Equal(HttpStatusCode.OK, issue.Status);
        Assert.Equal("ignored", issue.Json.GetProperty("outcome").GetString());
        Assert.Equal(before, await StateAsync(world));
    }

    async Task<string> StatusAsync(Guid build) => await ScalarAsync<string>(world, "select status from ops.builds where id = @build", new { build });
}
