using Dapper;
using OdooOps.Notifications;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// The sends a person asks for share one ration, which the ways around it do not reset: redelivering a delivered test
/// over and over counts like testing; removing the channels (whose deliveries go with them) leaves the organisation's
/// count; and two requests at once cannot both take the last send (one waits for the other, then is refused). Through
/// the use case the API, the page and the CLI share; a channel's ration here is 2 (the organisation's 8) or 1 (4).
/// </summary>
public sealed class NotificationRationTests(PostgresCluster cluster) : IAsyncLifetime
{
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    NotificationChannels Channels(int limit) => new(_b.Db, _b.Protector, NotificationBench.Settings with { TestLimit = limit });

    async Task<NotificationChannels.Outcome> TestAsync(NotificationChannels channels, Guid channel) =>
        await channels.TestAsync(_b.Actor, _b.Org, channel, CancellationToken.None);

    [Fact]
    public async Task Redelivering_a_delivered_test_over_and_over_is_rationed_like_testing()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var channels = Channels(2);
        var delivery = Assert.IsType<NotificationChannels.Outcome.Queued>(await TestAsync(channels, await _b.ChannelAsync(hooks, "looped"))).Delivery.Id;
        Assert.Equal(1, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.IsType<NotificationChannels.Outcome.Queued>(await channels.RedeliverAsync(_b.Actor, _b.Org, delivery, CancellationToken.None));
        Assert.Equal(1, await _b.Worker().RunOnceAsync(CancellationToken.None));

        var refused = Assert.IsType<NotificationChannels.Outcome.TooMany>(await channels.RedeliverAsync(_b.Actor, _b.Org, delivery, CancellationToken.None));
        Assert.Equal("This channel already had 2 tests and redeliveries in the last 10 minutes, the most allowed; "
            + $"try again in {refused.RetryAfterSeconds} s.", refused.Message);
        Assert.InRange(refused.RetryAfterSeconds, 1, 600);
        Assert.Equal("delivered", (await _b.RowAsync(delivery)).Status); // nothing changed
        Assert.Equal(0, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.Equal(2, hooks.All.Count);
        Assert.Equal(1L, await _b.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'notification_delivery.redeliver'"));
    }

    [Fact]
    public async Task Removing_channels_does_not_give_the_organisation_its_ration_back()
    {
        var channels = Channels(1);
        var removed = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var channel = await _b.ChannelAsync($"https://hooks.example.com/{i}", $"spray {i}");
            Assert.IsType<NotificationChannels.Outcome.Queued>(await TestAsync(channels, channel));
            removed.Add(channel);
        }
        foreach (var channel in removed)
            Assert.IsType<NotificationChannels.Outcome.Removed>(await channels.DeleteAsync(_b.Actor, _b.Org, channel, CancellationToken.None));
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops.notification_deliveries"));

        var fresh = await _b.ChannelAsync("https://hooks.example.com/fresh", "fresh start");
        var refused = Assert.IsType<NotificationChannels.Outcome.TooMany>(await TestAsync(channels, fresh));
        Assert.StartsWith("This organisation's channels already had 4 tests and redeliveries in the last 10 minutes", refused.Message);
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops.notification_deliveries"));

        // The retention job forgets what no ration looks at any more; then the organisation may test again.
        await _b.ExecuteAsync("update ops_private.notification_sends set at = at - interval '11 minutes'");
        Assert.Equal(0, await _b.ScalarAsync<int>("select ops.prune_notifications(now() - interval '30 days')"));
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops_private.notification_sends"));
        Assert.IsType<NotificationChannels.Outcome.Queued>(await TestAsync(channels, fresh));
    }

    [Fact]
    public async Task Two_requests_at_once_cannot_both_take_the_organisation_s_last_send()
    {
        var channels = Channels(1);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add(await _b.ChannelAsync($"https://hooks.example.com/{i}", $"at once {i}"));
        for (var i = 0; i < 3; i++) Assert.IsType<NotificationChannels.Outcome.Queued>(await TestAsync(channels, ids[i]));

        // One request has counted the organisation's last send and not committed yet …
        await using var first = await Accounts.OpenAsync(_b.Owner);
        await using var open = await first.BeginTransactionAsync();
        await first.ExecuteAsync("select ops_private.notification_send_ration(@Org, @channel, 'test', 1)", new { _b.Org, channel = ids[3] }, open);
        // … so the second waits for it instead of counting the same three, then is refused.
        var second = Task.Run(() => TestAsync(channels, ids[4]));
        var waiting = _b.WaitingOnALockAsync("queue_notification_test");
        Assert.Same(waiting, await Task.WhenAny(second, waiting));
        await open.CommitAsync();
        Assert.IsType<NotificationChannels.Outcome.TooMany>(await second.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(4L, await _b.ScalarAsync<long>("select count(*) from ops_private.notification_sends where org_id = @Org", new { _b.Org }));
    }
}
