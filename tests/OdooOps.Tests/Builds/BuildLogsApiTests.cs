using System.Net;
using System.Text.Json;
using OdooOps.Tests.Api;

namespace OdooOps.Tests.Builds;

/// <summary>GET /api/ops/builds/{id}/logs, …/steps and …/modules: paging with after/limit, completeness, tenants.</summary>
public sealed class BuildLogsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    async Task<(Guid Build, TestRunner Runner)> RunningBuildAsync()
    {
        var project = await world.NewProjectAsync(world.A);
        var build = await TestRunner.QueueAsync(world.Factory.Owner, project, "feature-x", world.Unique("c0ffee").Replace("-", ""));
        var runner = await TestRunner.RegisterAsync(world.Factory.Owner, world.A.OrgId);
        await runner.StartAsync(build);
        return (build, runner);
    }

    async Task<JsonElement> GetJsonAsync(string actor, string path)
    {
        var response = await world.Client(actor).GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    static long[] Seqs(JsonElement page) => [.. page.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("seq").GetInt64())];

    [Fact]
    public async Task Pages_follow_after_and_limit_and_complete_only_once_finished_with_no_line_left()
    {
        var (build, runner) = await RunningBuildAsync();
        await runner.AppendAsync(build, ("stdout", "one"), ("stderr", "two"), ("system", "three"), ("stdout", "four"), ("stdout", "five"));
        var path = $"/api/ops/builds/{build}/logs";

        var first = await GetJsonAsync("viewer", $"{path}?limit=2");
        Assert.Equal([0L, 1L], Seqs(first));
        Assert.Equal(1, first.GetProperty("next_after").GetInt64());
        Assert.False(first.GetProperty("complete").GetBoolean());
        Assert.Equal("running", first.GetProperty("status").GetString());
        Assert.Equal(build, first.GetProperty("build_id").GetGuid());
        var line = first.GetProperty("lines")[1];
        Assert.Equal(["seq", "ts", "stream", "line"], line.EnumerateObject().Select(p => p.Name));
        Assert.Equal("stderr", line.GetProperty("stream").GetString());
        Assert.Equal("two", line.GetProperty("line").GetString());

        var rest = await GetJsonAsync("viewer", $"{path}?after=1");
        Assert.Equal([2L, 3L, 4L], Seqs(rest));
        Assert.Equal(4, rest.GetProperty("next_after").GetInt64());
        Assert.False(rest.GetProperty("complete").GetBoolean()); // still running: more may come

        var none = await GetJsonAsync("viewer", $"{path}?after=4");
        Assert.Empty(Seqs(none));
        Assert.Equal(4, none.GetProperty("next_after").GetInt64());

        await runner.AppendAsync(build, "six");
        await runner.FinishAsync(build, "warning");
        var last = await GetJsonAsync("viewer", $"{path}?after=4&limit=1");
        Assert.Equal([5L], Seqs(last));
        Assert.True(last.GetProperty("complete").GetBoolean()); // finished, and the one line asked for was the last
        Assert.Equal("warning", last.GetProperty("status").GetString());

        var cut = await GetJsonAsync("viewer", $"{path}?after=3&limit=1");
        Assert.False(cut.GetProperty("complete").GetBoolean()); // finished, but line 5 is still to come
        Assert.Equal(6, Seqs(await GetJsonAsync("viewer", path)).Length); // default: from the start
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=5001", "limit")]
    [InlineData("after=-2", "after")]
    public async Task Bad_paging_is_a_400_naming_the_parameter(string query, string field)
    {
        var response = await world.Client("viewer").GetAsync($"/api/ops/builds/{world.A.BuildId}/logs?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Steps_and_modules_are_what_the_runner_reported()
    {
        var (build, runner) = await RunningBuildAsync();
        await runner.StepAsync(build, 1, "tests", "running");
        await runner.StepAsync(build, 0, "checkout", "success", 0, 1234);
        await runner.RecordSourceAsync(build, "abcdef1234", "Add sale_extra", """
            [{"name": "sale_extra", "path": "addons/sale_extra", "title": "Sale Extra", "version": "17.0.1.0.0", "depends": ["sale", "stock"], "installable": true},
             {"name": "account_fix", "path": "account_fix", "title": null, "version": null, "depends": [], "installable": false}]
            """);

        var steps = await GetJsonAsync("viewer", $"/api/ops/builds/{build}/steps");
        Assert.Equal("running", steps.GetProperty("status").GetString());
        var list = steps.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["checkout", "tests"], list.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(0, list[0].GetProperty("exit_code").GetInt32());
        Assert.Equal(1234, list[0].GetProperty("duration_ms").GetInt64());
        Assert.Equal("running", list[1].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, list[1].GetProperty("exit_code").ValueKind);

        var modules = await GetJsonAsync("viewer", $"/api/ops/builds/{build}/modules");
        Assert.Equal("abcdef1234", modules.GetProperty("commit_sha").GetString());
        var found = modules.GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal(["account_fix", "sale_extra"], found.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(["sale", "stock"], found[1].GetProperty("depends").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal("17.0.1.0.0", found[1].GetProperty("version").GetString());
        Assert.False(found[0].GetProperty("installable").GetBoolean());

        var detail = await GetJsonAsync("viewer", $"/api/ops/builds/{build}");
        Assert.Equal(runner.Id, detail.GetProperty("runner_id").GetGuid());
        Assert.Equal("test-runner", detail.GetProperty("runner_name").GetString());
    }

    [Theory]
    [InlineData("logs")]
    [InlineData("logs?after=0&limit=1")]
    [InlineData("logs/stream")]
    [InlineData("steps")]
    [InlineData("modules")]
    public async Task Another_tenants_build_is_not_found_and_anonymous_callers_are_refused(string resource)
    {
        var other = await world.Client("owner").GetAsync($"/api/ops/builds/{world.B.BuildId}/{resource}");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(world.B.BuildId.ToString(), await other.Content.ReadAsStringAsync());

        var missing = await world.Client("owner").GetAsync($"/api/ops/builds/{Guid.NewGuid()}/{resource}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var anonymous = await world.Client(null).GetAsync($"/api/ops/builds/{world.A.BuildId}/{resource}");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var own = await world.Client("b-owner").GetAsync($"/api/ops/builds/{world.B.BuildId}/{resource}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }
}
