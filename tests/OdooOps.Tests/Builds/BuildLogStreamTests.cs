using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Builds;

/// <summary>
/// A real Kestrel server whose stream watcher looks only every 30 s (unless a test shortens it), so a line that arrives
/// within a second came through LISTEN/NOTIFY; heartbeats every second.
/// </summary>
public sealed class StreamServerFixture(PostgresCluster cluster) : IAsyncLifetime
{
    public LiveServer Server { get; private set; } = null!;
    public Guid OrgId { get; private set; }
    public Guid ProjectId { get; private set; }
    public TestRunner Runner { get; private set; } = null!;
    public string ViewerToken { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "sse", new Dictionary<string, string?>
        {
            [BuildLogStreamSettings.PollKey] = "30",
            [BuildLogStreamSettings.HeartbeatKey] = "1",
        });
        OrgId = await Accounts.CreateOrgAsync(Server.Owner, "acme");
        ViewerToken = await Accounts.CreateTokenAsync(Server.Owner, await Accounts.CreateUserAsync(Server.Owner, "viewer@acme.test", OrgId, "viewer"));
        ProjectId = await Accounts.CreateProjectAsync(Server.Owner, OrgId, "erp");
        Runner = await TestRunner.RegisterAsync(Server.Owner, OrgId);
    }

    public HttpClient Client() => new HttpClient { BaseAddress = new Uri(Server.Url) }.WithToken(ViewerToken);

    public BuildLogNotifications Notifications => Server.Services.GetRequiredService<BuildLogNotifications>();

    public async Task<Guid> RunningBuildAsync()
    {
        var build = await TestRunner.QueueAsync(Server.Owner, ProjectId, "feature-x");
        await Runner.StartAsync(build);
        return build;
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>GET /api/ops/builds/{id}/logs/stream against a real server: live lines, resume, end, heartbeats, fallbacks.</summary>
public sealed class BuildLogStreamTests(StreamServerFixture fx) : IClassFixture<StreamServerFixture>
{
    /// <summary>How long to wait for something that must happen, before failing instead of hanging (latencies are asserted apart).</summary>
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    static string Stream(Guid build, string query = "") => $"/api/ops/builds/{build}/logs/stream{query}";

    async Task<SseClient> OpenAsync(Guid build, string query = "", string? lastEventId = null)
    {
        var sse = await SseClient.OpenAsync(fx.Client(), Stream(build, query), lastEventId);
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", sse.Response.Headers.CacheControl?.ToString());
        return sse;
    }

    static async Task<SseClient.Event> NextLineAsync(SseClient sse, TimeSpan timeout)
    {
        while (true)
        {
            var e = await sse.NextAsync(timeout) ?? throw new InvalidOperationException("the stream closed");
            if (e.Name == "line") return e;
        }
    }

    [Fact]
    public async Task Lines_steps_and_the_end_reach_a_connected_client_live()
    {
        var build = await fx.RunningBuildAsync();
        await using var sse = await OpenAsync(build);
        var status = Assert.Single(await sse.UntilAsync("status"));
        Assert.Equal("running", status.Json.GetProperty("status").GetString());

        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var seq = await fx.Runner.AppendAsync(build, ("stderr", $"line {i} \u001b[31mred\u001b[0m"));
            var line = await NextLineAsync(sse, TimeSpan.FromSeconds(5));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"line {i} took {clock.Elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(seq.ToString(), line.Id);
            Assert.Equal(seq, line.Json.GetProperty("seq").GetInt64());
            Assert.Equal("stderr", line.Json.GetProperty("stream").GetString());
            Assert.Equal($"line {i} \u001b[31mred\u001b[0m", line.Json.GetProperty("line").GetString());
        }

        await fx.Runner.StepAsync(build, 0, "install", "failed", 2, 1500);
        var step = (await sse.UntilAsync("step", TimeSpan.FromSeconds(1)))[^1];
        Assert.Equal("install", step.Json.GetProperty("name").GetString());
        Assert.Equal(2, step.Json.GetProperty("exit_code").GetInt32());

        await fx.Runner.AppendAsync(build, ("system", "Build failed."));
        await fx.Runner.FinishAsync(build, "failed", "install failed");
        var tail = await sse.UntilAsync("end", TimeSpan.FromSeconds(1));
        Assert.Equal(["line", "status", "end"], tail.Select(e => e.Name).Where(n => n != "step"));
        Assert.Equal("failed", tail[^1].Json.GetProperty("status").GetString());
        Assert.Equal("install failed", tail[^1].Json.GetProperty("result_detail").GetString());
        Assert.Null(await sse.NextAsync()); // the server closes after end
    }

    [Fact]
    public async Task A_reconnecting_client_resumes_after_its_Last_Event_ID()
    {
        var build = await fx.RunningBuildAsync();
        await fx.Runner.AppendAsync(build, "l0", "l1", "l2", "l3", "l4");

        await using (var resumed = await OpenAsync(build, "?after=0", lastEventId: "2")) // the header wins over the first URL's after
        {
            Assert.Equal(["3", "4"], new[] { (await NextLineAsync(resumed, TimeSpan.FromSeconds(5))).Id, (await NextLineAsync(resumed, TimeSpan.FromSeconds(5))).Id });
        }
        await using (var fromQuery = await OpenAsync(build, "?after=3"))
        {
            Assert.Equal("l4", (await NextLineAsync(fromQuery, TimeSpan.FromSeconds(5))).Json.GetProperty("line").GetString());
        }
        await fx.Runner.FinishAsync(build, "success");
        await using var all = await OpenAsync(build);
        var events = await all.UntilAsync("end");
        Assert.Equal(["l0", "l1", "l2", "l3", "l4"], events.Where(e => e.Name == "line").Select(e => e.Json.GetProperty("line").GetString()));
        Assert.Equal("success", events[^1].Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_long_finished_log_is_sent_whole_and_in_order_before_the_end()
    {
        var build = await fx.RunningBuildAsync();
        foreach (var chunk in Enumerable.Range(0, 1234).Chunk(400))
            await fx.Runner.AppendAsync(build, [.. chunk.Select(i => $"line {i}")]);
        await fx.Runner.FinishAsync(build, "warning");

        await using var sse = await OpenAsync(build);
        var events = await sse.UntilAsync("end");
        Assert.Equal(Enumerable.Range(0, 1234).Select(i => (long)i), events.Where(e => e.Name == "line").Select(e => e.Json.GetProperty("seq").GetInt64()));
        Assert.Equal("warning", events[^1].Json.GetProperty("status").GetString());
        Assert.Null(await sse.NextAsync());
    }

    [Fact]
    public async Task A_quiet_stream_sends_heartbeats_and_a_gone_client_leaves_no_waiter()
    {
        var build = await fx.RunningBuildAsync();
        var sse = await OpenAsync(build);
        await sse.UntilAsync("status");
        // Quiet until the heartbeat (due after 1 s of silence) has come, however late a busy machine sends it.
        await sse.UntilCommentAsync(": heartbeat", Patience);
        await fx.Runner.AppendAsync(build, "after the quiet");
        await NextLineAsync(sse, TimeSpan.FromSeconds(5));
        Assert.Contains(": heartbeat", sse.Comments);
        Assert.Equal(1, fx.Notifications.SubscriberCount(build));

        await sse.DisposeAsync();
        var deadline = DateTime.UtcNow + Patience;
        while (fx.Notifications.SubscriberCount(build) > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, fx.Notifications.SubscriberCount(build));
    }

    [Fact]
    public async Task Without_a_notification_the_watcher_still_delivers()
    {
        var build = await fx.RunningBuildAsync();
        var config = fx.Server.Services.GetRequiredService<IConfiguration>();
        config[BuildLogStreamSettings.PollKey] = "0.5";
        try
        {
            await using var sse = await OpenAsync(build);
            await sse.UntilAsync("status");
            await using (var conn = await Accounts.OpenAsync(fx.Server.Owner)) // a plain insert: no NOTIFY
                await conn.ExecuteAsync("insert into ops.build_logs (build_id, project_id, seq, stream, line) values (@build, @ProjectId, 0, 'system', 'polled')",
                    new { build, fx.ProjectId });
            // Only the watcher's 0.5 s round can bring it; the wait allows a busy machine, still short of its usual 30 s.
            Assert.Equal("polled", (await NextLineAsync(sse, TimeSpan.FromSeconds(20))).Json.GetProperty("line").GetString());
        }
        finally
        {
            config[BuildLogStreamSettings.PollKey] = "30";
        }
    }

    [Fact]
    public async Task The_listener_reconnects_when_its_connection_is_killed()
    {
        const string Listener = "select pid from pg_stat_activity where datname = current_database() and application_name = @name";
        await using (var conn = await Accounts.OpenAsync(fx.Server.Owner))
        {
            var args = new { name = PgNotifications.ApplicationName };
            var before = Assert.Single(await conn.QueryAsync<int>(Listener, args));
            Assert.True(await conn.ExecuteScalarAsync<bool>("select pg_terminate_backend(@before)", new { before }));
            // Back when a new backend listens under the same name and the service says so.
            var deadline = DateTime.UtcNow + Patience;
            while (DateTime.UtcNow < deadline && !((await conn.QueryAsync<int>(Listener, args)).Any(pid => pid != before) && fx.Notifications.Listening))
                await Task.Delay(50);
            Assert.Contains(await conn.QueryAsync<int>(Listener, args), pid => pid != before);
            Assert.True(fx.Notifications.Listening);
        }

        var build = await fx.RunningBuildAsync();
        await using var sse = await OpenAsync(build);
        await sse.UntilAsync("status");
        var clock = Stopwatch.StartNew();
        await fx.Runner.AppendAsync(build, "after the reconnect");
        await NextLineAsync(sse, TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed.TotalMilliseconds:0} ms");
    }
}
