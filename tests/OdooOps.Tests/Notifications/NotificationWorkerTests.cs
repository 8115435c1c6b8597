using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Notifications;
using OdooOps.Notifications.Delivery;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// The delivery worker on its own (no server, so nothing else delivers), its time on a manual clock: retries come due
/// only when the test moves the clock, never by waiting. A receiver answering 500 then 200 gets the event again after
/// the backoff and not before, a Retry-After longer than the backoff is honoured, attempts end at the limit, a channel
/// that keeps failing is marked and an advisory says so (to the other channels, not to itself) until it delivers again,
/// and two workers competing for forty deliveries send each exactly once.
/// </summary>
public sealed class NotificationWorkerTests(PostgresCluster cluster) : IAsyncLifetime
{
    static NotificationSettings Settings => NotificationBench.Settings;
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    NotificationWorker Worker(NotificationSettings? settings = null) => _b.Worker(settings);
    Task<Guid> ChannelAsync(HookReceiver hooks, string name, string[]? events = null) => _b.ChannelAsync(hooks, name, events);
    Task<Guid> TestAsync(Guid channel) => _b.TestAsync(channel);
    Task<(string Status, int Attempts, int? Code, DateTime? Next)> RowAsync(Guid delivery) => _b.RowAsync(delivery);
    Task<string?> ErrorAsync(Guid delivery) => _b.ErrorAsync(delivery);
    DateTime At(TimeSpan after) => _b.At(after);

    [Fact]
    public async Task A_500_is_retried_after_the_backoff_a_retry_after_is_honoured_and_a_200_ends_it()
    {
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Answer(new(500, "upstream down"), new(503, "busy", RetryAfterSeconds: 300));
        var delivery = await TestAsync(await ChannelAsync(hooks, "flaky"));
        var worker = Worker();

        Assert.Equal(1, await worker.RunOnceAsync(CancellationToken.None));
        var row = await RowAsync(delivery);
        Assert.Equal(("pending", 1, 500), (row.Status, row.Attempts, row.Code));
        Assert.Equal(At(TimeSpan.FromSeconds(30)), row.Next!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal("HTTP 500: upstream down", await ErrorAsync(delivery));

        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None)); // not due yet
        _b.Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));
        _b.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await worker.RunOnceAsync(CancellationToken.None));
        row = await RowAsync(delivery);
        Assert.Equal(("pending", 2, 503), (row.Status, row.Attempts, row.Code));
        Assert.Equal(At(TimeSpan.FromSeconds(300)), row.Next!.Value, TimeSpan.FromMilliseconds(1)); // Retry-After beats the 60 s backoff

        _b.Clock.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));
        _b.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await worker.RunOnceAsync(CancellationToken.None));
        row = await RowAsync(delivery);
        Assert.Equal(("delivered", 3, 200, (DateTime?)null), row);
        Assert.Null(await ErrorAsync(delivery));
        Assert.Equal(3, hooks.All.Count);
        Assert.Single(hooks.All.Select(h => h.Header("X-OdooOps-Event-Id")).Distinct());
    }

    [Fact]
    public async Task A_webhook_carries_its_sending_time_signed_with_the_body_so_a_receiver_can_refuse_a_replay()
    {
        await using var hooks = await HookReceiver.StartAsync();
        await TestAsync(await ChannelAsync(hooks, "timestamped"));
        Assert.Equal(1, await Worker().RunOnceAsync(CancellationToken.None));
        var r = Assert.Single(hooks.All);
        var now = _b.Clock.GetUtcNow();
        Assert.Equal(now.ToUnixTimeSeconds().ToString(), r.Header("X-OdooOps-Timestamp"));
        Assert.Matches("^sha256=[0-9a-f]{64}$", r.Header("X-OdooOps-Signature-v2"));
        Assert.True(HookReceiver.SignatureV2Valid(r, NotificationBench.Secret, now, TimeSpan.FromMinutes(5)));
        Assert.True(HookReceiver.SignatureValid(r, NotificationBench.Secret)); // the body-only signature stays, as GitHub sends it

        // Captured and sent again ten minutes later: too old. With a fresh timestamp instead: the signature does not match.
        var later = now.AddMinutes(10);
        Assert.False(HookReceiver.SignatureV2Valid(r, NotificationBench.Secret, later, TimeSpan.FromMinutes(5)));
        var restamped = r with { Headers = new Dictionary<string, string>(r.Headers) { ["x-odooops-timestamp"] = later.ToUnixTimeSeconds().ToString() } };
        Assert.False(HookReceiver.SignatureV2Valid(restamped, NotificationBench.Secret, later, TimeSpan.FromMinutes(5)));
        Assert.False(HookReceiver.SignatureV2Valid(r, NotificationBench.Secret + "x", now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A_receiver_that_never_sends_its_answer_s_body_costs_one_attempt_s_time_not_the_worker()
    {
        // Headers of a 500 promising 100,000 bytes, then nothing: a receiver holding the worker (and every tenant's
        // deliveries) if only the headers were timed. Its status is its answer — it failed — so it is tried again.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        var serving = Task.Run(async () =>
        {
            var client = await listener.AcceptTcpClientAsync();
            held.Add(client);
            var stream = client.GetStream();
            var buffer = new byte[65536];
            _ = await stream.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false); // the request (the answer does not wait for all of it)
            await stream.WriteAsync("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\nstall"u8.ToArray());
        });
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/in";
        var outcome = await _b.Channels.SaveAsync(_b.Actor, _b.Org, null,
            new ChannelRequest("stalling", "webhook", url, "0123456789abcdef-secret", null, null, ["build.failed"], null, null, null), CancellationToken.None);
        var delivery = await TestAsync(Assert.IsType<NotificationChannels.Outcome.Done>(outcome).Channel.Id);
        var settings = Settings with { Timeout = TimeSpan.FromSeconds(2) };

        // A hang guard, not a speed check: without the attempt's own deadline this never returns.
        Assert.Equal(1, await Worker(settings).RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90)));
        var row = await RowAsync(delivery);
        Assert.Equal(("pending", 1, 500), (row.Status, row.Attempts, row.Code));
        Assert.Equal("HTTP 500", await ErrorAsync(delivery));
        await serving;
        foreach (var client in held) client.Dispose();
    }

    [Fact]
    public async Task A_channel_that_keeps_failing_is_marked_and_advised_about_elsewhere_but_not_to_itself_and_recovers_with_its_next_delivery()
    {
        await using var hooks = await HookReceiver.StartAsync();
        await using var watcher = await HookReceiver.StartAsync();
        hooks.Answer([.. Enumerable.Repeat(new HookReceiver.Reply(500), 4)]);
        string[] advisories = ["build.failed", "advisory.opened", "advisory.resolved"];
        var channel = await ChannelAsync(hooks, "broken", advisories);
        var other = await ChannelAsync(watcher, "watcher", advisories);
        var delivery = await TestAsync(channel);
        var worker = Worker();

        foreach (var wait in new[] { 0, 30, 60 })
        {
            _b.Clock.Advance(TimeSpan.FromSeconds(wait));
            await worker.RunOnceAsync(CancellationToken.None);
        }
        Assert.Equal(3, hooks.All.Count);
        await using var conn = await Accounts.OpenAsync(_b.Owner);
        var state = await conn.QuerySingleAsync<(int Failures, DateTime? Since)>(
            "select consecutive_failures, failing_since from ops.notification_channels where id = @channel", new { channel });
        Assert.Equal(3, state.Failures);
        Assert.Equal(_b.Clock.GetUtcNow().UtcDateTime, state.Since!.Value, TimeSpan.FromMilliseconds(1));
        var advisory = await conn.QuerySingleAsync<(Guid Project, string Severity, string Title, string Status)>(
            "select project_id, severity, title, status from ops.advisories where rule = 'notification_channel_failing' and fingerprint = @f",
            new { f = $"notification_channel_failing:{channel}" });
        Assert.Equal((_b.Project, "warning", "Notification channel broken is failing", "open"), advisory);
        // Its advisory goes to the other channel, never to the failing one itself (where it would fail, and count).
        Assert.Equal("Project erp: warning: Notification channel broken is failing",
            (await watcher.WaitForEventAsync("advisory.opened")).Json.GetProperty("summary").GetString());
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>(
            "select count(*) from ops.notification_deliveries where channel_id = @channel and event like 'advisory.%'", new { channel }));

        _b.Clock.Advance(TimeSpan.FromSeconds(100)); // the backoff's cap
        Assert.Equal(1, await worker.RunOnceAsync(CancellationToken.None));
        Assert.Equal(("failed", 4, 500, (DateTime?)null), await RowAsync(delivery)); // the last attempt: given up
        _b.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await worker.RunOnceAsync(CancellationToken.None));

        // Fixed at the receiver: a redelivery succeeds, the channel is ok again, the advisory resolves (told to the other one only).
        Assert.IsType<NotificationChannels.Outcome.Queued>(await _b.Channels.RedeliverAsync(_b.Actor, _b.Org, delivery, CancellationToken.None));
        Assert.Equal(2, await worker.RunOnceAsync(CancellationToken.None)); // the redelivery, then the other channel's advisory.resolved
        Assert.Equal("delivered", (await RowAsync(delivery)).Status);
        Assert.Equal((0, (DateTime?)null), await conn.QuerySingleAsync<(int, DateTime?)>(
            "select consecutive_failures, failing_since from ops.notification_channels where id = @channel", new { channel }));
        Assert.Equal("resolved", await conn.ExecuteScalarAsync<string>(
            "select status from ops.advisories where fingerprint = @f", new { f = $"notification_channel_failing:{channel}" }));
        await watcher.WaitForEventAsync("advisory.resolved");
        Assert.Equal(5, hooks.All.Count);
        Assert.All(hooks.All, r => Assert.Equal("notification.test", r.Header("X-OdooOps-Event")));
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>(
            "select count(*) from ops.notification_deliveries where channel_id = @channel and event like 'advisory.%'", new { channel }));
        Assert.Equal(2L, await conn.ExecuteScalarAsync<long>(
            "select count(*) from ops.notification_deliveries where channel_id = @other and event like 'advisory.%'", new { other }));
    }

    [Fact]
    public async Task Two_workers_competing_send_each_delivery_exactly_once()
    {
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Delay = TimeSpan.FromMilliseconds(20);
        var channel = await ChannelAsync(hooks, "busy");
        var deliveries = new List<Guid>();
        for (var i = 0; i < 40; i++) deliveries.Add(await TestAsync(channel));

        var attempts = await Task.WhenAll(Task.Run(() => Worker().RunOnceAsync(CancellationToken.None)), Task.Run(() => Worker().RunOnceAsync(CancellationToken.None)));

        Assert.Equal(40, attempts.Sum());
        Assert.Equal(40, hooks.All.Count);
        Assert.Equal(deliveries.Select(d => d.ToString()).Order(), hooks.All.Select(h => h.Header("X-OdooOps-Delivery")).Order());
        foreach (var d in deliveries) Assert.Equal(("delivered", 1), (await RowAsync(d)) is var r ? (r.Status, r.Attempts) : default);
    }

    [Fact]
    public async Task A_server_that_does_not_allow_private_targets_refuses_them_when_sending_too()
    {
        // The channel was saved pointing at loopback (as a name that resolved publicly then would, DNS rebinding): the
        // worker resolves and checks again when it connects, and the receiver gets nothing.
        await using var hooks = await HookReceiver.StartAsync();
        var delivery = await TestAsync(await ChannelAsync(hooks, "rebound"));
        Assert.Equal(1, await Worker(Settings with { AllowPrivateTargets = false }).RunOnceAsync(CancellationToken.None));
        Assert.Equal(("pending", 1, (int?)null), (await RowAsync(delivery)) is var r ? (r.Status, r.Attempts, r.Code) : default);
        Assert.Contains("127.0.0.1 resolves to a loopback or private address", await ErrorAsync(delivery));
        Assert.Empty(hooks.All);
        Assert.True(OdooOps.Notifications.Delivery.OutboundGuard.IsPrivateLiteral("localhost"));
        Assert.True(OdooOps.Notifications.Delivery.OutboundGuard.IsPrivateLiteral("169.254.169.254"));
        Assert.True(OdooOps.Notifications.Delivery.OutboundGuard.IsPrivateLiteral("[::ffff:10.0.0.1]"));
        Assert.False(OdooOps.Notifications.Delivery.OutboundGuard.IsPrivateLiteral("hooks.slack.com"));
        var (_, refused) = NotificationChannelRules.Check(new ChannelRequest("x", "webhook", "http://169.254.169.254/latest/meta-data", "0123456789abcdef",
            null, null, null, null, null, null), null, Settings with { AllowPrivateTargets = false });
        Assert.True(refused.Errors.ContainsKey("url"));
    }

    [Fact]
    public async Task A_channel_enabled_without_its_secret_says_it_has_none_rather_than_blaming_the_keys()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var channel = await ChannelAsync(hooks, "no secret");
        await _b.ExecuteAsync("""
            delete from ops_private.notification_channel_secrets where channel_id = @channel;
            update ops.notification_channels set secret_set_at = null where id = @channel;
            """, new { channel });
        var delivery = await TestAsync(channel);
        Assert.Equal(1, await Worker().RunOnceAsync(CancellationToken.None));
        Assert.Equal("The channel has no signing secret set: set one (secret).", await ErrorAsync(delivery));
        Assert.Empty(hooks.All);

        // A secret the server's keys cannot open any more is another matter, and says so.
        await _b.ExecuteAsync("insert into ops_private.notification_channel_secrets (channel_id, secret) values (@channel, 'not-a-ciphertext')", new { channel });
        _b.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await Worker().RunOnceAsync(CancellationToken.None));
        Assert.StartsWith("The channel's signing secret cannot be read", await ErrorAsync(delivery));
    }

    [Fact]
    public async Task The_retention_job_forgets_old_events_and_their_deliveries_but_not_one_still_waiting()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var channel = await ChannelAsync(hooks, "old news");
        var (old, waiting, fresh) = (await TestAsync(channel), await TestAsync(channel), await TestAsync(channel));
        await using var conn = await Accounts.OpenAsync(_b.Owner);
        await conn.ExecuteAsync("""
            update ops_private.notification_events e set created_at = now() - interval '40 days'
              from ops.notification_deliveries d where d.event_id = e.id and d.id in (@old, @waiting);
            update ops.notification_deliveries set status = 'delivered', next_attempt_at = null where id in (@old, @fresh);
            """, new { old, waiting, fresh });
        var services = new ServiceCollection()
            .AddSingleton(_b.Db)
            .AddSingleton<TimeProvider>(_b.Clock)
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        var detail = await NotificationRetentionJob.Job.Run(services, CancellationToken.None);
        Assert.StartsWith("1 notification event(s)", detail);
        Assert.Equal([waiting, fresh], (await conn.QueryAsync<Guid>(
            "select id from ops.notification_deliveries where id in (@old, @waiting, @fresh) order by created_at", new { old, waiting, fresh })).ToArray());
    }
}
