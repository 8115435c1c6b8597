using System.Net;
using System.Net.Sockets;
using OdooOps.Notifications;
using OdooOps.Notifications.Delivery;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// A delivery its worker certainly did not send is given back, not left 'unknown': one picked up with too little of its
/// lease left (a worker held up since its claim), and one whose attempt had written nothing when the server stopped
/// (here: waiting for an SMTP server's greeting). It is pending again with its attempt not counted, and the next look
/// sends it. An attempt that had written its body when the server stopped is not cut off: it runs on and its answer is
/// recorded. Each step waits on what the receiver saw, never on time.
/// </summary>
public sealed class NotificationReleaseTests(PostgresCluster cluster) : IAsyncLifetime
{
    static readonly NotificationSettings Settings = NotificationBench.Settings;
    /// <summary>A minute an attempt, so a held request cannot reach its own deadline while the test works.</summary>
    static readonly NotificationSettings Patient = Settings with { Timeout = TimeSpan.FromSeconds(60) };
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    async Task<(bool Leased, string? Error)> LeaseAsync(Guid delivery) =>
        (await _b.ScalarAsync<bool>("select lease_id is not null from ops.notification_deliveries where id = @delivery", new { delivery }),
            await _b.ErrorAsync(delivery));

    [Fact]
    public async Task A_delivery_picked_up_too_late_to_send_is_given_back_and_sent_at_the_next_look()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var channel = await _b.ChannelAsync(hooks, "late pick-up");
        var delivery = await _b.TestAsync(channel);
        var claimed = Assert.Single(await DeliveryStore.ClaimAsync(_b.Db.Service, _b.Clock.GetUtcNow(), 10, Settings, CancellationToken.None));
        _b.Clock.Advance(Settings.AttemptDeadline); // held up since the claim: what is left of the lease no longer covers an attempt

        await _b.Worker().DeliverAsync(claimed, CancellationToken.None);
        Assert.Empty(hooks.All);
        Assert.Equal(("pending", 0), (await _b.RowAsync(delivery)) is var r ? (r.Status, r.Attempts) : default);
        Assert.Equal((false, null), await LeaseAsync(delivery));
        Assert.Equal(1, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.Equal(("delivered", 1, 200), (await _b.RowAsync(delivery)) is var d ? (d.Status, d.Attempts, d.Code) : default);

        // Later still: another worker already called it unknown (its lease ran out). It was never sent, so it is pending again.
        var stale = await _b.TestAsync(channel);
        var held = Assert.Single(await DeliveryStore.ClaimAsync(_b.Db.Service, _b.Clock.GetUtcNow(), 10, Settings, CancellationToken.None));
        _b.Clock.Advance(Settings.Lease);
        Assert.Equal(0, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.Equal("unknown", (await _b.RowAsync(stale)).Status);
        await _b.Worker().DeliverAsync(held, CancellationToken.None);
        Assert.Equal(("pending", 0), (await _b.RowAsync(stale)) is var s ? (s.Status, s.Attempts) : default);
        Assert.Equal((false, null), await LeaseAsync(stale));
        Assert.Single(hooks.All);
    }

    [Fact]
    public async Task A_shutdown_lets_an_attempt_that_wrote_its_body_finish_and_records_its_answer()
    {
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivery = await _b.TestAsync(await _b.ChannelAsync(hooks, "answered during shutdown"));
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => _b.Worker(Patient).RunOnceAsync(stop.Token));
        await hooks.WaitForAsync(_ => true); // the receiver has the body and holds its answer

        await stop.CancelAsync(); // the server stops
        hooks.Gate.TrySetResult(); // and the receiver answers after all
        Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(("delivered", 1, 200, (DateTime?)null), await _b.RowAsync(delivery));
        Assert.Single(hooks.All);
    }

    [Fact]
    public async Task A_shutdown_before_anything_was_written_gives_the_delivery_back_instead_of_leaving_it_unknown()
    {
        // An SMTP server that accepts the connection and never greets: the mail's client waits, having written nothing.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = listener.AcceptTcpClientAsync();
        var saved = await _b.Channels.SaveAsync(_b.Actor, _b.Org, null, new ChannelRequest("mute smtp", "email", null, null, ["oncall@acme.test"],
            new SmtpRequest("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, "none", null, null, "ops@acme.test"), ["build.failed"], null, null, null),
            CancellationToken.None);
        var delivery = await _b.TestAsync(Assert.IsType<NotificationChannels.Outcome.Done>(saved).Channel.Id);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => _b.Worker(Patient).RunOnceAsync(stop.Token));
        using var connection = await accepted.WaitAsync(TimeSpan.FromSeconds(90));

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(("pending", 0, (int?)null), (await _b.RowAsync(delivery)) is var r ? (r.Status, r.Attempts, r.Code) : default);
        Assert.Equal((false, null), await LeaseAsync(delivery));
        Assert.True((await _b.RowAsync(delivery)).Next <= _b.Clock.GetUtcNow().UtcDateTime); // due now, for the next server
    }
}
