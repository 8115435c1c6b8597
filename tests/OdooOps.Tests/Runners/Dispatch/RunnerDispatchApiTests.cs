using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Runners.Dispatch;

/// <summary>
/// The runner protocol's refusals and guarantees, spoken directly over HTTP: 401 without a valid runner or registration
/// token, 400 naming the field, 409 to a runner that no longer holds the lease (and nothing changes), capacity, the
/// claim order, and a parked long poll woken by the enqueue's NOTIFY rather than by its slow poll.
/// </summary>
public sealed class RunnerDispatchApiTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;

    // The log streams' watcher looks only every 30 s here, so a prompt end can only come from a notification.
    public async ValueTask InitializeAsync() =>
        _world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_BUILD_LOG_POLL_SECONDS"] = "30" });

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    async Task<HttpResponseMessage> PostAsync(string path, object body, string? token)
    {
        using var http = new HttpClient { BaseAddress = _world.Url };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await http.PostAsJsonAsync(path, body, Json);
    }

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Calls_without_a_valid_runner_token_are_401()
    {
        var registered = await _world.RegisterAsync("soon-disabled");
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("update ops.runners set disabled_at = now() where id = @RunnerId", new { registered.RunnerId });

        foreach (var token in new string?[] { null, "oo_run_unknown", registered.Token.Replace("oo_run_", "oo_pat_"), registered.Token })
        {
            await ProblemAsync(await PostAsync(Next, new NextRequest(1, 0), token), HttpStatusCode.Unauthorized);
            await ProblemAsync(await PostAsync(Done(Guid.NewGuid()), new DoneRequest(Guid.NewGuid(), "success", null), token), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Registration_needs_a_live_registration_token_and_creates_nothing_otherwise()
    {
        var expired = AccessTokensFor.Registration();
        var revoked = AccessTokensFor.Registration();
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        await conn.ExecuteAsync("""
            insert into ops.runner_registration_tokens (org_id, token_hash, expires_at, revoked_at) values
                (@OrgId, @expired, now() - interval '1 minute', null), (@OrgId, @revoked, null, now())
            """, new { _world.OrgId, expired = expired.Hash, revoked = revoked.Hash });

        foreach (var token in new[] { "oo_reg_unknown", expired.Token, revoked.Token, "oo_run_not-a-registration-token" })
            await ProblemAsync(await PostAsync(Register, new RegisterRequest(token, "r", [], 1, null), null), HttpStatusCode.Unauthorized);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.runners where not embedded"));

        // A live token may register several runners until it expires.
        var live = await _world.RegistrationTokenAsync();
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(Register, new RegisterRequest(live, "r1", ["odoo-19"], 2, "1.0"), null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(Register, new RegisterRequest(live, "r2", [], 1, "1.0"), null)).StatusCode);
        Assert.Equal(["r1", "r2"], await conn.QueryAsync<string>("select name from ops.runners where org_id = @OrgId order by name", new { _world.OrgId }));
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { "register", """{"registration_token":"oo_reg_x","name":"r","capacity":0}""", "capacity" },
        { "register", """{"registration_token":"oo_reg_x","name":"r","labels":["Bad Label"]}""", "labels" },
        { "register", """{"registration_token":"oo_reg_x"}""", "name" },
        { "next", """{"max":0}""", "max" },
        { "next", """{"wait_seconds":31}""", "wait_seconds" },
        { "extend", """{}""", "lease_id" },
        { "logs", """{"lease_id":"00000000-0000-0000-0000-000000000001","lines":[]}""", "lines" },
        { "logs", """{"lease_id":"00000000-0000-0000-0000-000000000001","lines":[{"seq":0,"stream":"stdin","line":"x"}]}""", "lines[0].stream" },
        { "logs", """{"lease_id":"00000000-0000-0000-0000-000000000001","lines":[{"seq":-1,"stream":"stdout","line":"x"}]}""", "lines[0].seq" },
        { "step", """{"lease_id":"00000000-0000-0000-0000-000000000001","name":"s","status":"exploded"}""", "status" },
        { "source", """{"lease_id":"00000000-0000-0000-0000-000000000001","commit_sha":"NOT-HEX"}""", "commit_sha" },
        { "source", """{"lease_id":"00000000-0000-0000-0000-000000000001","modules":[{"path":"addons/x","depends":[],"installable":true}]}""", "modules[0].name" },
        { "done", """{"lease_id":"00000000-0000-0000-0000-000000000001","result":"great"}""", "result" },
        { "done", """{"result":"success"}""", "lease_id" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_are_400_naming_the_field(string call, string json, string field)
    {
        var token = await _world.RunnerTokenAsync();
        var id = Guid.NewGuid();
        var path = call switch
        {
            "register" => Register, "next" => Next, "extend" => Extend(id), "logs" => Logs(id), "step" => Step(id, 0),
            "source" => Source(id), _ => Done(id),
        };
        using var http = new HttpClient { BaseAddress = _world.Url };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var response = await http.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors name {field}: {problem}");
    }

    [Fact]
    public async Task A_runner_that_lost_its_lease_is_refused_409_and_changes_nothing()
    {
        var build = await _world.QueueBuildAsync();
        using var first = await _world.ClientAsync("first");
        var job = Assert.Single(await first.NextAsync(1, 0, default));
        await first.LogsAsync(job, [new LogLine(job.LogSeqStart, null, "stdout", "attempt one")], default);

        // The lease runs out and the rescuer hands the build back to the queue as attempt 2.
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
        {
            await conn.ExecuteAsync("update ops.run_queue set lease_until = now() - interval '1 second' where build_id = @build", new { build });
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select requeued from ops.rescue_build_leases()"));
        }
        var logBefore = await _world.LogAsync(build);

        await Assert.ThrowsAsync<LeaseLostException>(() => first.ExtendAsync(job, default));
        await Assert.ThrowsAsync<LeaseLostException>(() => first.LogsAsync(job, [new LogLine(job.LogSeqStart + 1, null, "stdout", "late")], default));
        await Assert.ThrowsAsync<LeaseLostException>(() => first.StepAsync(job, 0, new StepRequest(null, "late", "success", 0, null, 5), default));
        await Assert.ThrowsAsync<LeaseLostException>(() => first.SourceAsync(job, "abcdef12", "late", [], default));
        await Assert.ThrowsAsync<LeaseLostException>(() => first.DoneAsync(job, "success", null, default));
        Assert.Equal("queued", (await _world.BuildAsync(build)).Status);
        Assert.Equal(logBefore, await _world.LogAsync(build));
        Assert.Empty(await _world.StepsAsync(build));

        // Another runner finishes attempt 2; the first runner's late result is still refused and changes nothing.
        using var second = await _world.ClientAsync("second");
        var retry = Assert.Single(await second.NextAsync(1, 0, default));
        Assert.Equal((build, 2), (retry.BuildId, retry.Attempt));
        Assert.True(retry.LogSeqStart > job.LogSeqStart, "attempt 2 appends after attempt 1's lines");
        await second.DoneAsync(retry, "failed", "attempt two failed", default);
        await Assert.ThrowsAsync<LeaseLostException>(() => first.DoneAsync(job, "success", null, default));
        await Assert.ThrowsAsync<LeaseLostException>(() => second.DoneAsync(retry, "success", null, default)); // no build completes twice

        var row = await _world.BuildAsync(build);
        Assert.Equal(("failed", 2, "attempt two failed"), (row.Status, row.Attempt, row.ResultDetail));
        await using var check = await Accounts.OpenAsync(_world.Owner);
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("select count(*) from ops.run_queue where build_id = @build", new { build }));
    }

    [Fact]
    public async Task A_result_reported_by_the_runner_ends_the_live_log_stream_at_once()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync("streamed");
        var job = Assert.Single(await runner.NextAsync(1, 0, default));
        using var api = await _world.OwnerApiAsync();
        await using var sse = await OdooOps.Tests.Builds.SseClient.OpenAsync(api, $"/api/ops/builds/{build}/logs/stream");
        await sse.UntilAsync("status");

        var clock = Stopwatch.StartNew();
        await runner.DoneAsync(job, "success", null, default);
        var events = await sse.UntilAsync("end", TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"end after {clock.ElapsedMilliseconds} ms"); // the poll would take 30 s
        Assert.Equal("success", events[^1].Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_runner_gets_no_more_jobs_than_its_free_capacity()
    {
        for (var i = 0; i < 4; i++) await _world.QueueBuildAsync("feature-x");
        using var runner = await _world.ClientAsync("two-slots", capacity: 2);

        var jobs = await runner.NextAsync(5, 0, default);
        Assert.Equal(2, jobs.Count);
        Assert.Empty(await runner.NextAsync(5, 0, default));

        await runner.DoneAsync(jobs[0], "success", null, default);
        Assert.Single(await runner.NextAsync(5, 0, default));
    }

    [Fact]
    public async Task Claims_take_production_then_staging_then_development_manual_before_push_then_oldest()
    {
        // Queued in the reverse of the order they must come out.
        var expected = new List<Guid>();
        foreach (var (branch, trigger) in new[] { ("feature-x", "push"), ("feature-x", "push"), ("feature-x", "manual"), ("staging", "push"), ("staging", "manual"), ("main", "push"), ("main", "manual") })
            expected.Insert(0, await _world.QueueBuildAsync(branch, trigger: trigger));
        // Same stage and trigger: the older first.
        (expected[5], expected[6]) = (expected[6], expected[5]);

        using var runner = await _world.ClientAsync("one-at-a-time", capacity: 1);
        var order = new List<Guid>();
        for (var i = 0; i < expected.Count; i++)
        {
            var job = Assert.Single(await runner.NextAsync(1, 0, default));
            order.Add(job.BuildId);
            await runner.DoneAsync(job, "success", null, default);
        }
        Assert.Equal(expected, order);
    }

    [Fact]
    public async Task A_project_requiring_labels_has_its_builds_taken_only_by_runners_with_all_of_them()
    {
        using var api = await _world.OwnerApiAsync();
        var path = $"/api/ops/projects/{_world.ProjectId}/runner-labels";
        var bad = await api.PutAsJsonAsync(path, new { labels = new[] { "Odoo 19" } });
        Assert.True((await ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("labels", out _));
        using (var set = await api.PutAsJsonAsync(path, new { labels = new[] { "odoo-19", "big", "odoo-19" } }))
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(["big", "odoo-19"], (await api.GetFromJsonAsync<JsonElement>(path)).GetProperty("labels").EnumerateArray().Select(e => e.GetString()));

        var build = await _world.QueueBuildAsync();
        using var plain = await _world.ClientAsync("plain", 4);
        using var half = await _world.ClientAsync("half", 4, "odoo-19");
        using var full = await _world.ClientAsync("full", 4, "odoo-19", "big", "ssd");
        Assert.Empty(await plain.NextAsync(4, 0, default));
        Assert.Empty(await half.NextAsync(4, 0, default));
        Assert.Equal(build, Assert.Single(await full.NextAsync(4, 0, default)).BuildId);

        // Cleared: any runner again, from the next build on.
        using (var clear = await api.PutAsJsonAsync(path, new { labels = Array.Empty<string>() }))
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        var next = await _world.QueueBuildAsync();
        Assert.Equal(next, Assert.Single(await plain.NextAsync(4, 0, default)).BuildId);
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.audit_log where action = 'project.runner_labels' and target_id = @id", new { id = _world.ProjectId.ToString() }));
    }

    [Fact]
    public async Task A_parked_long_poll_is_woken_by_the_enqueue_not_by_its_slow_poll()
    {
        using var runner = await _world.ClientAsync("parked");
        Assert.Empty(await runner.NextAsync(1, 0, default));
        var poll = await _world.StartParkedPollAsync(runner, 20);
        Assert.False(poll.IsCompleted);

        var clock = Stopwatch.StartNew();
        var build = await _world.QueueBuildAsync();
        var job = Assert.Single(await poll);
        // The slow-poll fallback is 5 s: answering well within it means the NOTIFY woke the poll.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"answered after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(build, job.BuildId);
    }

    [Fact]
    public async Task A_stopping_server_answers_held_long_polls_at_once_instead_of_waiting_for_them()
    {
        var world = await RunnerWorld.StartAsync(cluster);
        using var runner = await world.ClientAsync("parked-at-shutdown");
        var poll = await world.StartParkedPollAsync(runner, 30);
        Assert.False(poll.IsCompleted);

        var clock = Stopwatch.StartNew();
        await world.DisposeAsync();
        Assert.Empty(await poll); // 204: nothing for you, poll again (elsewhere)
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");
    }

    [Fact]
    public async Task An_empty_long_poll_answers_204_when_its_wait_runs_out()
    {
        var token = await _world.RunnerTokenAsync();
        var clock = Stopwatch.StartNew();
        var response = await PostAsync(Next, new NextRequest(1, 1), token);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    /// <summary>A registration token and its hash, for rows inserted directly.</summary>
    static class AccessTokensFor
    {
        public static (string Token, byte[] Hash) Registration()
        {
            var token = OdooOps.Auth.AccessTokens.Create(RegistrationTokenPrefix);
            return (token, OdooOps.Auth.AccessTokens.Hash(token));
        }
    }
}
