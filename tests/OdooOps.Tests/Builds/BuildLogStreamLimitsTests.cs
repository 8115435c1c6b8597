using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Builds;

/// <summary>A real Kestrel server with the default stream caps (20 per user, 500 in all) and a running build.</summary>
public sealed class StreamLimitsFixture(PostgresCluster cluster) : IAsyncLifetime
{
    public LiveServer Server { get; private set; } = null!;
    public Guid OrgId { get; private set; }
    public Guid Build { get; private set; }
    public TestRunner Runner { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "ssecap", new Dictionary<string, string?> { [BuildLogStreamSettings.HeartbeatKey] = "60" });
        OrgId = await Accounts.CreateOrgAsync(Server.Owner, "acme");
        var project = await Accounts.CreateProjectAsync(Server.Owner, OrgId, "erp");
        Runner = await TestRunner.RegisterAsync(Server.Owner, OrgId);
        Build = await TestRunner.QueueAsync(Server.Owner, project, "feature-x");
        await Runner.StartAsync(Build);
    }

    /// <summary>A client of a new viewer of the org.</summary>
    public async Task<HttpClient> ViewerAsync(string name)
    {
        var user = await Accounts.CreateUserAsync(Server.Owner, $"{name}-{Guid.NewGuid():N}@acme.test", OrgId, "viewer");
        return new HttpClient { BaseAddress = new Uri(Server.Url) }.WithToken(await Accounts.CreateTokenAsync(Server.Owner, user));
    }

    public T Service<T>() where T : notnull => Server.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Live log streams are capped per user and per process, and fed by the process's one LISTEN connection and its one
/// watcher: an idle stream never reads the database. Raw HTTP against a real Kestrel port.
/// </summary>
public sealed class BuildLogStreamLimitsTests(StreamLimitsFixture fx) : IClassFixture<StreamLimitsFixture>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    string StreamPath => $"/api/ops/builds/{fx.Build}/logs/stream";

    async Task<HttpResponseMessage> TryOpenAsync(HttpClient client)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, StreamPath);
        request.Headers.Accept.ParseAdd(BuildLogStream.ContentType);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    static async Task<string> RefusalAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(BuildLogStreamLimits.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Too many live log streams", problem.RootElement.GetProperty("title").GetString());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }

    static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"waited in vain for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Closes the streams and waits until the server has let their slots go.</summary>
    async Task CloseAsync(IEnumerable<HttpResponseMessage> streams)
    {
        foreach (var stream in streams) stream.Dispose();
        var limits = fx.Service<BuildLogStreamLimits>();
        await UntilAsync(() => limits.Open == 0, "the closed streams' slots to be free");
    }

    [Fact]
    public async Task Two_hundred_streams_of_one_user_are_refused_past_the_cap_and_the_server_keeps_answering()
    {
        using var mallory = await fx.ViewerAsync("mallory");
        var open = new List<HttpResponseMessage>();
        var refused = 0;
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var response = await TryOpenAsync(mallory);
                if (response.StatusCode == HttpStatusCode.OK) { open.Add(response); continue; }
                using (response) Assert.Contains("OPS_BUILD_LOG_STREAMS_PER_USER", await RefusalAsync(response));
                refused++;
            }
            Assert.Equal((20, 180), (open.Count, refused));
            Assert.Equal(20, fx.Service<BuildLogStreamLimits>().Open);

            // Everything else still answers: health, the same user's other reads, another user's stream.
            using var anonymous = new HttpClient { BaseAddress = new Uri(fx.Server.Url) };
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await mallory.GetAsync($"/api/ops/builds/{fx.Build}/logs")).StatusCode);
            using var alice = await fx.ViewerAsync("alice");
            await using (var sse = await SseClient.OpenAsync(alice, StreamPath))
                Assert.Equal("running", (await sse.UntilAsync("status"))[^1].Json.GetProperty("status").GetString());

            // A closed stream gives its slot back.
            open[0].Dispose();
            open.RemoveAt(0);
            var limits = fx.Service<BuildLogStreamLimits>();
            await UntilAsync(() => limits.Open == 19, "the closed stream's slot to be free");
            var again = await TryOpenAsync(mallory);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            open.Add(again);
        }
        finally { await CloseAsync(open); }
    }

    [Fact]
    public async Task Past_the_process_wide_cap_every_user_is_refused()
    {
        var config = fx.Service<IConfiguration>();
        config[BuildLogStreamSettings.MaxKey] = "3";
        var open = new List<HttpResponseMessage>();
        try
        {
            using var alice = await fx.ViewerAsync("alice");
            using var bob = await fx.ViewerAsync("bob");
            foreach (var client in new[] { alice, alice, bob })
            {
                var response = await TryOpenAsync(client);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                open.Add(response);
            }
            using var refused = await TryOpenAsync(bob);
            Assert.Contains("OPS_BUILD_LOG_STREAMS_MAX", await RefusalAsync(refused));
        }
        finally
        {
            config[BuildLogStreamSettings.MaxKey] = null;
            await CloseAsync(open);
        }
    }

    /// <summary>
    /// Twenty idle streams with the fallback every 0.1 s: rounds of the one watcher go by and no stream reads the database
    /// (a poll per stream would read 200 times a second); a notification, or the watcher's sight of a change no
    /// notification announced, makes each stream read once and deliver the line.
    /// </summary>
    [Fact]
    public async Task Idle_streams_read_nothing_and_are_woken_by_the_listener_or_the_one_watcher()
    {
        var config = fx.Service<IConfiguration>();
        var notifications = fx.Service<BuildLogNotifications>();
        config[BuildLogStreamSettings.PollKey] = "0.1";
        var streams = new List<SseClient>();
        try
        {
            using var carol = await fx.ViewerAsync("carol");
            for (var i = 0; i < 20; i++)
            {
                var sse = await SseClient.OpenAsync(carol, StreamPath);
                await sse.UntilAsync("status");
                streams.Add(sse);
            }
            // Settled: the watcher's first sight of the build woke each stream once; from then on, three rounds at a time,
            // no read at all.
            var settled = false;
            for (var attempt = 0; attempt < 20 && !settled; attempt++)
            {
                var (reads, rounds) = (notifications.StreamReads, notifications.WatcherRounds);
                await UntilAsync(() => notifications.WatcherRounds >= rounds + 3, "three rounds of the watcher");
                settled = notifications.StreamReads == reads;
            }
            Assert.True(settled, "idle streams kept reading the database");
            var idle = notifications.StreamReads;
            var before = notifications.WatcherRounds;
            await UntilAsync(() => notifications.WatcherRounds >= before + 10, "ten more rounds of the watcher");
            Assert.Equal(idle, notifications.StreamReads);

            var seq = await fx.Runner.AppendAsync(fx.Build, "notified");
            foreach (var sse in streams) Assert.Equal(seq.ToString(), (await NextLineAsync(sse)).Id);
            await using (var conn = await Accounts.OpenAsync(fx.Server.Owner)) // a plain insert: no NOTIFY, only the watcher sees it
                await conn.ExecuteAsync("""
                    insert into ops.build_logs (build_id, project_id, seq, stream, line)
                    select id, project_id, @next, 'system', 'unannounced' from ops.builds where id = @Build
                    """, new { next = seq + 1, fx.Build });
            foreach (var sse in streams) Assert.Equal("unannounced", (await NextLineAsync(sse)).Json.GetProperty("line").GetString());
            Assert.InRange(notifications.StreamReads - idle, 40, 80); // a read per stream and wake-up (the watcher may wake them once more), not a poll
        }
        finally
        {
            config[BuildLogStreamSettings.PollKey] = null;
            foreach (var sse in streams) await sse.DisposeAsync();
            var limits = fx.Service<BuildLogStreamLimits>();
            await UntilAsync(() => limits.Open == 0, "the streams' slots to be free");
        }
    }

    static async Task<SseClient.Event> NextLineAsync(SseClient sse)
    {
        while (true)
        {
            var e = await sse.NextAsync(Patience) ?? throw new InvalidOperationException("the stream closed");
            if (e.Name == "line") return e;
        }
    }
}
