using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Builds;

/// <summary>
/// Who may build, the same commit already queued and the queue cap have one owner (ops.trigger_build): a git push and
/// an API or console trigger see each other's builds, count against one cap, and refuse in the same words.
/// </summary>
public sealed class BuildRulesTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    async Task<int> CountAsync(string sql, object args)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<int>(sql, args);
    }

    [Fact]
    public async Task A_push_and_an_api_trigger_of_the_same_commit_queue_one_build_either_way()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var pushed = await GitHubAsync(world.Client(null), project, secret, GitHubPush("refs/heads/main", Sha('c')));
        Assert.Equal(HttpStatusCode.Accepted, pushed.Status);
        var triggered = await world.Client("developer").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "main", commit_sha = Sha('c') }));
        Assert.Equal(HttpStatusCode.OK, triggered.StatusCode);
        using (var json = JsonDocument.Parse(await triggered.Content.ReadAsStringAsync()))
            Assert.Equal(pushed.Json.GetProperty("build_id").GetGuid(), json.RootElement.GetProperty("id").GetGuid());

        var first = await world.Client("developer").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "staging", commit_sha = Sha('d') }));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var again = await GitHubAsync(world.Client(null), project, secret, GitHubPush("refs/heads/staging", Sha('d')));
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(2, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task Pushed_and_triggered_builds_count_against_one_cap()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("""
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
                select b.project_id, b.id, 'queued', 'api', lpad(to_hex(g), 8, '0') from ops.branches b cross join generate_series(1, 19) g
                where b.project_id = @project and b.name = 'feature-x'
                """, new { project });
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(world.Client(null), project, secret, GitHubPush("refs/heads/main", Sha('e')))).Status);
        var refused = await world.Client("owner").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "staging" }));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GitHubAsync(world.Client(null), project, secret, GitHubPush("refs/heads/new-one", Sha('f')))).Status);
        Assert.Equal(0, await CountAsync("select count(*) from ops.branches where project_id = @project and name = 'new-one'", new { project }));
        Assert.Equal(20, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task A_refusal_is_worded_by_the_database_for_triggers_and_cancels_alike()
    {
        var project = await world.NewProjectAsync(world.A);
        var trigger = await world.Client("tester").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "main" }));
        Assert.Equal(HttpStatusCode.Forbidden, trigger.StatusCode);
        Assert.Contains("Building the production branch needs the developer role or higher; you are tester.", await trigger.Content.ReadAsStringAsync());

        var queued = await world.Client("owner").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "main" }));
        using var json = JsonDocument.Parse(await queued.Content.ReadAsStringAsync());
        var cancel = await world.Client("tester").PostAsync($"/api/ops/builds/{json.RootElement.GetProperty("id").GetGuid()}/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        Assert.Contains("Cancelling builds of the production branch needs the developer role or higher; you are tester.", await cancel.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_triggers_are_audited_by_the_database_as_the_caller()
    {
        var project = await world.NewProjectAsync(world.A);
        var response = await world.Client("developer").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "staging", commit_sha = "abc123" }));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var row = await conn.QuerySingleAsync<(string Actor, string Email, string Branch, string Sha, string Trigger)>("""
            select a.actor, u.email, a.after->>'branch', a.after->>'commit_sha', a.after->>'trigger'
              from ops.audit_log a join registry.users u on u.id = a.actor_user_id
             where a.action = 'build.trigger' and a.target_id = @id
            """, new { id = json.RootElement.GetProperty("id").GetGuid().ToString() });
        Assert.Equal(("user", "developer@a.test", "staging", "abc123", "api"), row);
    }
}
