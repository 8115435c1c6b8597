using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Builds;

/// <summary>POST /api/ops/builds/{id}/cancel and …/rebuild: states, roles by stage, tenants, audit.</summary>
public sealed class BuildActionsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    Task<int> AuditCountAsync(string action, Guid buildId) =>
        ScalarAsync<int>("select count(*) from ops.audit_log where action = @action and target_id = @id", new { action, id = buildId.ToString() });

    async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string actor, string path)
    {
        var response = await world.Client(actor).PostAsync(path, null);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    [Fact]
    public async Task Cancelling_a_queued_build_cancels_it_at_once_and_audits_it()
    {
        var project = await world.NewProjectAsync(world.A);
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, "main");

        var (status, body) = await PostAsync("developer", $"/api/ops/builds/{build}/cancel");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("cancelled", body.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("finished_at").ValueKind);
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from ops.run_queue where build_id = @build", new { build }));
        Assert.Equal(1, await AuditCountAsync("build.cancel", build));

        var again = await PostAsync("developer", $"/api/ops/builds/{build}/cancel");
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Contains("already finished (cancelled)", again.Body.GetProperty("detail").GetString());
        Assert.Equal(1, await AuditCountAsync("build.cancel", build));
    }

    [Fact]
    public async Task Cancelling_a_running_build_asks_its_runner_and_keeps_it_running()
    {
        var project = await world.NewProjectAsync(world.A);
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, "feature-x");
        var runner = await TestRunner.RegisterAsync(world.Factory.Owner, world.A.OrgId);
        await runner.StartAsync(build);
        Assert.False(await runner.CancelRequestedAsync(build));

        var (status, body) = await PostAsync("tester", $"/api/ops/builds/{build}/cancel"); // a tester may, on a development branch

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("running", body.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("cancel_requested_at").ValueKind);
        Assert.True(await runner.CancelRequestedAsync(build));
        Assert.Equal(1, await AuditCountAsync("build.cancel", build));

        var again = await PostAsync("tester", $"/api/ops/builds/{build}/cancel"); // nothing new: same answer, no second audit row
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(body.GetProperty("cancel_requested_at").GetString(), again.Body.GetProperty("cancel_requested_at").GetString());
        Assert.Equal(1, await AuditCountAsync("build.cancel", build));

        await runner.FinishAsync(build, "cancelled");
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync("tester", $"/api/ops/builds/{build}/cancel")).Status);
    }

    [Theory]
    [InlineData("tester", "main", HttpStatusCode.Forbidden)]
    [InlineData("tester", "staging", HttpStatusCode.OK)]
    [InlineData("viewer", "feature-x", HttpStatusCode.Forbidden)]
    [InlineData("developer", "main", HttpStatusCode.OK)]
    [InlineData("b-owner", "main", HttpStatusCode.NotFound)]
    [InlineData(null, "main", HttpStatusCode.Unauthorized)]
    public async Task Cancel_follows_the_build_rights_of_the_branch(string? actor, string branch, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, branch);
        var response = await world.Client(actor).PostAsync($"/api/ops/builds/{build}/cancel", null);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? "cancelled" : "queued",
            await ScalarAsync<string>("select status from ops.builds where id = @build", new { build }));
        if (expected == HttpStatusCode.Forbidden)
            Assert.Contains($"you are {actor}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_read_only_token_cannot_cancel()
    {
        var user = await world.NewOrgMemberAsync(world.A, "owner");
        var token = await Accounts.CreateTokenAsync(world.Factory.Owner, user, scope: "read");
        var project = await world.NewProjectAsync(world.A);
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, "feature-x");
        var response = await world.Client(null).WithToken(token).PostAsync($"/api/ops/builds/{build}/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("queued", await ScalarAsync<string>("select status from ops.builds where id = @build", new { build }));
    }

    [Fact]
    public async Task Rebuild_queues_the_same_branch_and_commit_once()
    {
        var project = await world.NewProjectAsync(world.A);
        var source = await TestRunner.QueueAsync(world.Factory.Owner, project, "staging", "feed42", status: "failed");

        var (status, body) = await PostAsync("tester", $"/api/ops/builds/{source}/rebuild");

        Assert.Equal(HttpStatusCode.Accepted, status);
        var rebuilt = body.GetProperty("id").GetGuid();
        Assert.NotEqual(source, rebuilt);
        Assert.Equal("rebuild", body.GetProperty("trigger").GetString());
        Assert.Equal("staging", body.GetProperty("branch").GetString());
        Assert.Equal("feed42", body.GetProperty("commit_sha").GetString());
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal(1, await ScalarAsync<int>("select count(*) from ops.run_queue where build_id = @rebuilt", new { rebuilt }));
        Assert.Equal(1, await AuditCountAsync("build.trigger", rebuilt));

        // The same commit is queued already: that build is the answer, and no third one appears.
        var again = await PostAsync("tester", $"/api/ops/builds/{source}/rebuild");
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(rebuilt, again.Body.GetProperty("id").GetGuid());
        Assert.Equal(2, await ScalarAsync<int>("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Theory]
    [InlineData("tester", "main", HttpStatusCode.Forbidden)]
    [InlineData("viewer", "staging", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", "main", HttpStatusCode.NotFound)]
    [InlineData(null, "main", HttpStatusCode.Unauthorized)]
    public async Task Rebuild_refusals_queue_nothing(string? actor, string branch, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var source = await TestRunner.QueueAsync(world.Factory.Owner, project, branch, "beef99", status: "success");
        var response = await world.Client(actor).PostAsync($"/api/ops/builds/{source}/rebuild", null);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(1, await ScalarAsync<int>("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task Rebuilding_a_build_of_an_archived_branch_is_a_conflict()
    {
        var project = await world.NewProjectAsync(world.A);
        var source = await TestRunner.QueueAsync(world.Factory.Owner, project, "feature-x", "abc999", status: "success");
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("update ops.branches set archived_at = now() where project_id = @project and name = 'feature-x'", new { project });
        var response = await world.Client("owner").PostAsync($"/api/ops/builds/{source}/rebuild", null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("archived", await response.Content.ReadAsStringAsync());
    }
}
