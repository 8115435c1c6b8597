using Dapper;
using Npgsql;
using OdooOps.Notifications;
using OdooOps.Notifications.Delivery;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// "At most once per event and channel", against the ways it could break: an attempt that outlives its lease while
/// another worker looks for work (the receiver holds the request open; the manual clock passes the lease), a node that
/// claimed and died, a delivery left with more attempts than the limit, and a channel disabled or removed while an
/// attempt is being recorded (real connections, ordered by waiting until each one waits on a lock — no sleeps).
/// </summary>
public sealed class NotificationAtMostOnceTests(PostgresCluster cluster) : IAsyncLifetime
{
    static readonly NotificationSettings Settings = NotificationBench.Settings;
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    [Fact]
    public async Task An_attempt_that_outlives_its_lease_is_not_sent_again_by_another_worker_and_its_late_answer_is_recorded()
    {
        // Each attempt has a minute of real time, so the held request cannot reach its own deadline while the test works.
        var settings = Settings with { Timeout = TimeSpan.FromSeconds(60) };
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivery = await _b.TestAsync(await _b.ChannelAsync(hooks, "slow receiver"));
        var first = Task.Run(() => _b.Worker(settings).RunOnceAsync(CancellationToken.None));
        var inFlight = await hooks.WaitForAsync(_ => true);
        try
        {
            _b.Clock.Advance(settings.Lease); // the attempt has now outlived its lease
            var second = Task.Run(() => _b.Worker(settings).RunOnceAsync(CancellationToken.None));
            var resent = hooks.WaitForAsync(r => r != inFlight);
            Assert.Same(second, await Task.WhenAny(second, resent));
            Assert.Equal(0, await second);
            Assert.Single(hooks.All);
            Assert.Equal(("unknown", 1), (await _b.RowAsync(delivery)) is var r ? (r.Status, r.Attempts) : default);
            Assert.StartsWith("Outcome unknown", await _b.ErrorAsync(delivery));
        }
        finally { hooks.Gate.TrySetResult(); }

        Assert.Equal(1, await first);
        Assert.Equal(("delivered", 1, 200, (DateTime?)null), await _b.RowAsync(delivery)); // its own answer, recorded under the lease it kept
        Assert.Null(await _b.ErrorAsync(delivery));
        _b.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await _b.Worker(settings).RunOnceAsync(CancellationToken.None));
        Assert.Single(hooks.All);
    }

    [Fact]
    public async Task A_node_that_claimed_and_died_leaves_an_unknown_outcome_that_only_a_person_sends_again()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var delivery = await _b.TestAsync(await _b.ChannelAsync(hooks, "dead node"));
        var stalled = Assert.Single(await DeliveryStore.ClaimAsync(_b.Db.Service, _b.Clock.GetUtcNow(), 10, Settings, CancellationToken.None));
        Assert.Equal(0, await _b.Worker().RunOnceAsync(CancellationToken.None)); // held by the stalled node

        _b.Clock.Advance(Settings.Lease);
        Assert.Equal(0, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.Equal(("unknown", 1), (await _b.RowAsync(delivery)) is var r ? (r.Status, r.Attempts) : default);
        Assert.Empty(hooks.All);
        Assert.Null(await _b.ScalarAsync<DateTime?>("select ops.next_notification_due(60)"));

        Assert.IsType<NotificationChannels.Outcome.Queued>(await _b.Channels.RedeliverAsync(_b.Actor, _b.Org, delivery, CancellationToken.None));
        Assert.Equal(1, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.Equal(("delivered", 1, 200), (await _b.RowAsync(delivery)) is var d ? (d.Status, d.Attempts, d.Code) : default);
        // The dead node's answer, should it come after all, belongs to an attempt that is no longer the delivery's.
        var late = await DeliveryStore.FinishAsync(_b.Db.Service, stalled, _b.Clock.GetUtcNow(),
            new DeliveryResult(DeliveryOutcome.Retry, 500, "late", TimeSpan.Zero), _b.Clock.GetUtcNow().AddSeconds(30), 3, CancellationToken.None);
        Assert.Equal("lost", late);
        Assert.Equal(("delivered", 1, 200), (await _b.RowAsync(delivery)) is var e ? (e.Status, e.Attempts, e.Code) : default);
        Assert.Single(hooks.All);
    }

    [Fact]
    public async Task A_delivery_that_used_up_its_attempts_ends_failed_instead_of_being_sent_again()
    {
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Answer([.. Enumerable.Repeat(new HookReceiver.Reply(500, "down"), 3)]);
        var delivery = await _b.TestAsync(await _b.ChannelAsync(hooks, "spent"));
        var patient = Settings with { MaxAttempts = 8 };
        foreach (var wait in new[] { 0, 30, 60 })
        {
            _b.Clock.Advance(TimeSpan.FromSeconds(wait));
            Assert.Equal(1, await _b.Worker(patient).RunOnceAsync(CancellationToken.None));
        }
        Assert.Equal(("pending", 3), (await _b.RowAsync(delivery)) is var r ? (r.Status, r.Attempts) : default);

        // The operator lowers OPS_NOTIFY_MAX_ATTEMPTS: a delivery already past it is given up, not sent a fourth time.
        _b.Clock.Advance(TimeSpan.FromSeconds(120));
        Assert.Equal(0, await _b.Worker(Settings with { MaxAttempts = 2 }).RunOnceAsync(CancellationToken.None));
        Assert.Equal(("failed", 3, 500, (DateTime?)null), await _b.RowAsync(delivery));
        Assert.Equal("Gave up after 3 attempts: HTTP 500: down", await _b.ErrorAsync(delivery));
        Assert.Equal(3, hooks.All.Count);
        Assert.Null(await _b.ScalarAsync<DateTime?>("select ops.next_notification_due(60)"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Recording_an_attempt_while_its_channel_is_disabled_or_removed_never_deadlocks(bool remove)
    {
        for (var i = 0; i < 5; i++)
            foreach (var finishFirst in new[] { true, false })
                await RaceAsync(remove, finishFirst, $"race {remove} {i} {finishFirst}");
    }

    /// <summary>
    /// One race: a third connection holds the delivery's row, so that both sides start and block; the one named first is
    /// seen waiting on a lock before the other starts, then the row is let go and both must finish (a deadlock fails one
    /// of them with 40P01). With the finisher first and the locks taken in opposite orders, that is a deadlock every time.
    /// </summary>
    async Task RaceAsync(bool remove, bool finishFirst, string name)
    {
        var channel = await _b.ChannelAsync("https://hooks.example.com/race", name);
        var delivery = await _b.TestAsync(channel);
        var claimed = Assert.Single(await DeliveryStore.ClaimAsync(_b.Db.Service, _b.Clock.GetUtcNow(), 10, Settings, CancellationToken.None));
        await using var holder = await Accounts.OpenAsync(_b.Owner);
        await using var hold = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("select 1 from ops.notification_deliveries where id = @delivery for update", new { delivery }, hold);

        Task Finish() => Task.Run(() => DeliveryStore.FinishAsync(_b.Db.Service, claimed, _b.Clock.GetUtcNow(),
            new DeliveryResult(DeliveryOutcome.Delivered, 200, null, TimeSpan.Zero), null, 3, CancellationToken.None));
        Task Change() => Task.Run(async () => remove
            ? Assert.IsType<NotificationChannels.Outcome.Removed>(await _b.Channels.DeleteAsync(_b.Actor, _b.Org, channel, CancellationToken.None))
            : (object)Assert.IsType<NotificationChannels.Outcome.Done>(await _b.Channels.SaveAsync(_b.Actor, _b.Org, channel,
                new ChannelRequest(null, null, null, null, null, null, null, null, null, Enabled: false), CancellationToken.None)));
        var (finishCall, changeCall) = ("finish_notification_delivery", remove ? "delete_notification_channel" : "save_notification_channel");

        var a = finishFirst ? Finish() : Change();
        await _b.WaitingOnALockAsync(finishFirst ? finishCall : changeCall);
        var b = finishFirst ? Change() : Finish();
        await _b.WaitingOnALockAsync(finishFirst ? changeCall : finishCall);
        await hold.CommitAsync();
        await Task.WhenAll(a, b).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.NotEqual("pending", await _b.ScalarAsync<string?>("select status from ops.notification_deliveries where id = @delivery", new { delivery }));
    }
}
