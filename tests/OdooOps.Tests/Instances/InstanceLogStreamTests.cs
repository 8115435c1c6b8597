using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Builds;
using OdooOps.Instances;
using OdooOps.Tests.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>A real Kestrel server whose watcher looks only every 30 s (unless a test shortens it): a line that comes sooner came by NOTIFY.</summary>
public sealed class InstanceStreamFixture(PostgresCluster cluster) : IAsyncLifetime
{
    public LiveServer Server { get; private set; } = null!;
    public Guid ProjectId { get; private set; }
    public string ViewerToken { get; private set; } = "";
    public string OtherToken { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "instsse", new Dictionary<string, string?>
        {
            [BuildLogStreamSettings.PollKey] = "30",
            [BuildLogStreamSettings.HeartbeatKey] = "1",
        });
        var org = await Accounts.CreateOrgAsync(Server.Owner, "acme");
        ViewerToken = await Accounts.CreateTokenAsync(Server.Owner, await Accounts.CreateUserAsync(Server.Owner, "viewer@acme.test", org, "viewer"));
        var other = await Accounts.CreateOrgAsync(Server.Owner, "other");
        OtherToken = await Accounts.CreateTokenAsync(Server.Owner, await Accounts.CreateUserAsync(Server.Owner, "owner@other.test", other, "owner"));
        ProjectId = await Accounts.CreateProjectAsync(Server.Owner, org, "erp");
    }

    public HttpClient Client(string? token = null) => new HttpClient { BaseAddress = new Uri(Server.Url) }.WithToken(token ?? ViewerToken);

    public InstanceLogNotifications Notifications => Server.Services.GetRequiredService<InstanceLogNotifications>();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>GET /api/ops/instances/{id}/logs/stream against a real server: live lines, filters, resume, state changes, tenants.</summary>
public sealed class InstanceLogStreamTests(InstanceStreamFixture fx) : IClassFixture<InstanceStreamFixture>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    static async Task<SseClient.Event> NextAsync(SseClient sse, string name, TimeSpan timeout)
    {
        while (true)
        {
            var e = await sse.NextAsync(timeout) ?? throw new InvalidOperationException("the stream closed");
            if (e.Name == name) return e;
        }
    }

    [Fact]
    public async Task A_line_appended_after_subscribing_arrives_by_notification()
    {
        var runner = await TestRunner.RegisterAsync(fx.Server.Owner, null, "instance-host");
        var instance = await InstanceRows.InsertAsync(fx.Server.Owner, fx.ProjectId, "main", new(RunnerId: runner.Id));
        await InstanceRows.AppendAsync(fx.Server.Owner, instance, ("INFO", "before the stream"));
        await using var sse = await SseClient.OpenAsync(fx.Client(), $"/api/ops/instances/{instance}/logs/stream");
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
        var state = await NextAsync(sse, "state", Patience); // first: where the instance stands; old lines are not replayed
        Assert.Equal("running", state.Json.GetProperty("state").GetString());

        var clock = Stopwatch.StartNew();
        var seq = await InstanceRows.AppendAsRunnerAsync(fx.Server.Owner, runner.Id, instance, ("ERROR", "odoo.http: boom")); // the runner's own function
        var line = await NextAsync(sse, "line", TimeSpan.FromSeconds(20)); // well inside the watcher's 30 s: the notification brought it
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
        Assert.Equal(seq.ToString(), line.Id);
        Assert.Equal(("ERROR", "odoo.http: boom"), (line.Json.GetProperty("level").GetString(), line.Json.GetProperty("line").GetString()));
        Assert.Equal(1, fx.Notifications.SubscriberCount(instance));
    }

    [Fact]
    public async Task The_stream_filters_like_the_page_and_resumes_after_its_Last_Event_ID()
    {
        var instance = await InstanceRows.InsertAsync(fx.Server.Owner, fx.ProjectId, "staging");
        await InstanceRows.AppendAsync(fx.Server.Owner, instance, ("INFO", "l0"), ("WARNING", "l1 Invoice"), ("INFO", "l2 invoice"), ("ERROR", "l3 invoice"));

        await using (var resumed = await SseClient.OpenAsync(fx.Client(), $"/api/ops/instances/{instance}/logs/stream?after_seq=-1&level=warning&q=INVOICE", lastEventId: "1"))
            Assert.Equal("l3 invoice", (await NextAsync(resumed, "line", Patience)).Json.GetProperty("line").GetString());

        await using var filtered = await SseClient.OpenAsync(fx.Client(), $"/api/ops/instances/{instance}/logs/stream?after_seq=-1&level=WARNING");
        Assert.Equal("1", (await NextAsync(filtered, "line", Patience)).Id);
        Assert.Equal("3", (await NextAsync(filtered, "line", Patience)).Id);
        await InstanceRows.AppendAsync(fx.Server.Owner, instance, ("DEBUG", "quiet"), ("CRITICAL", "loud"));
        Assert.Equal("loud", (await NextAsync(filtered, "line", TimeSpan.FromSeconds(20))).Json.GetProperty("line").GetString());
    }

    [Fact]
    public async Task A_new_state_reported_without_a_notification_reaches_the_stream_through_the_watcher()
    {
        var instance = await InstanceRows.InsertAsync(fx.Server.Owner, fx.ProjectId, "feature-x");
        var config = fx.Server.Services.GetRequiredService<IConfiguration>();
        config[BuildLogStreamSettings.PollKey] = "0.5";
        try
        {
            await using var sse = await SseClient.OpenAsync(fx.Client(), $"/api/ops/instances/{instance}/logs/stream");
            Assert.Equal("running", (await NextAsync(sse, "state", Patience)).Json.GetProperty("state").GetString());
            await InstanceRows.ExecuteAsync(fx.Server.Owner, "update ops.instances set state = 'failed', reason = 'crashed 5 times', restarts = 5 where id = @instance", new { instance });
            var failed = await NextAsync(sse, "state", Patience);
            Assert.Equal(("failed", "crashed 5 times", 5), (failed.Json.GetProperty("state").GetString(), failed.Json.GetProperty("reason").GetString(), failed.Json.GetProperty("restarts").GetInt32()));
        }
        finally
        {
            config[BuildLogStreamSettings.PollKey] = "30";
        }
    }

    [Fact]
    public async Task Another_tenant_gets_a_404_and_no_stream()
    {
        var instance = await InstanceRows.InsertAsync(fx.Server.Owner, fx.ProjectId, "main");
        using var response = await fx.Client(fx.OtherToken).GetAsync($"/api/ops/instances/{instance}/logs/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, fx.Notifications.SubscriberCount(instance));
    }
}
