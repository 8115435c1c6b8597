using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Builds;

/// <summary>`POST /functions/v1/ops-trigger-build` and `POST /api/ops/builds`: queue, dedupe, roles, cap, validation.</summary>
public sealed class BuildTriggerTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    const string Function = "/functions/v1/ops-trigger-build";

    async Task<int> CountAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<int>(sql, args);
    }

    [Fact]
    public async Task Queues_a_build_with_its_queue_row_and_answers_the_same_build_again()
    {
        var project = await world.NewProjectAsync(world.A);
        var client = world.Client("developer");
        var first = await client.PostAsync(Function, ApiWorld.Body(new { project_id = project, branch = "main", commit_sha = "abc123" }));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var body = await first.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal(["build_id", "status"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("queued", json.RootElement.GetProperty("status").GetString());
        var buildId = json.RootElement.GetProperty("build_id").GetGuid();
        Assert.Equal(1, await CountAsync("select count(*) from ops.run_queue where build_id = @buildId", new { buildId }));
        Assert.Equal(1, await CountAsync("select count(*) from ops.audit_log where action = 'build.trigger' and target_id = @id", new { id = buildId.ToString() }));

        var again = await client.PostAsync(Function, ApiWorld.Body(new { project_id = project, branch = "main", commit_sha = "abc123" }));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains(buildId.ToString(), await again.Content.ReadAsStringAsync());

        var other = await client.PostAsync(Function, ApiWorld.Body(new { project_id = project, branch = "main", commit_sha = "def456" }));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
        Assert.Equal(2, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task Concurrent_identical_triggers_queue_one_build()
    {
        var project = await world.NewProjectAsync(world.A);
        var client = world.Client("owner");
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            client.PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "staging", commit_sha = "beef01" }))));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Theory]
    [InlineData("tester", "main", HttpStatusCode.Forbidden)]
    [InlineData("tester", "staging", HttpStatusCode.Accepted)]
    [InlineData("tester", "feature-x", HttpStatusCode.Accepted)]
    [InlineData("viewer", "feature-x", HttpStatusCode.Forbidden)]
    [InlineData("developer", "main", HttpStatusCode.Accepted)]
    [InlineData("b-owner", "main", HttpStatusCode.NotFound)]
    [InlineData(null, "main", HttpStatusCode.Unauthorized)]
    public async Task Roles_decide_by_stage_and_strangers_see_nothing(string? actor, string branch, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var response = await world.Client(actor).PostAsync(Function, ApiWorld.Body(new { project_id = project, branch }));
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.Accepted ? 1 : 0, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
        if (expected != HttpStatusCode.Accepted) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"branch":"main"}""", "project_id")]
    [InlineData("""{"project_id":"{p}"}""", "branch_id")]
    [InlineData("""{"project_id":"{p}","branch":"nope"}""", "branch")]
    [InlineData("""{"project_id":"{p}","branch_id":"00000000-0000-0000-0000-000000000001"}""", "branch_id")]
    [InlineData("""{"project_id":"{p}","branch":"main","commit_sha":"XYZ"}""", "commit_sha")]
    public async Task Bad_input_names_the_field_and_queues_nothing(string body, string field)
    {
        var project = await world.NewProjectAsync(world.A);
        var response = await world.Client("owner").PostAsync(Function,
            new StringContent(body.Replace("{p}", project.ToString()), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(0, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task A_full_queue_answers_429()
    {
        var project = await world.NewProjectAsync(world.A);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("""
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
                select b.project_id, b.id, 'queued', 'push', lpad(to_hex(g), 8, '0') from ops.branches b cross join generate_series(1, 20) g
                where b.project_id = @project and b.name = 'feature-x'
                """, new { project });
        var response = await world.Client("owner").PostAsync(Function, ApiWorld.Body(new { project_id = project, branch = "main" }));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(20, await CountAsync("select count(*) from ops.builds where project_id = @project", new { project }));
    }

    [Fact]
    public async Task The_api_answers_the_whole_build()
    {
        var project = await world.NewProjectAsync(world.A);
        var response = await world.Client("owner").PostAsync("/api/ops/builds", ApiWorld.Body(new { project_id = project, branch = "feature-x" }));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("feature-x", json.RootElement.GetProperty("branch").GetString());
        Assert.Equal("api", json.RootElement.GetProperty("trigger").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("commit_sha").ValueKind);
    }
}
