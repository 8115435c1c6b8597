using OdooOps.Database;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// The delivery worker every `serve` node runs: woken by NOTIFY ops_notifications (an event or a test was queued, a
/// delivery redelivered) and at least every <see cref="Sweep"/> (retries come due, a notification may be missed), it
/// announces the branches that stayed down past the grace (ops.announce_notification_downs), claims what is due
/// (ops.claim_notification_deliveries: leased, FOR UPDATE SKIP LOCKED, so two nodes never send the same delivery at
/// once), sends each within what is left of its lease, and records the outcome under that lease: delivered, retried
/// later with exponential backoff (a receiver's Retry-After is honoured when longer) when it provably did not arrive or
/// the receiver said it failed for now, failed for good, or unknown when it was sent and no answer came. A lease that
/// ran out is never sent again (the claim makes it 'unknown'). A delivery it certainly did not send — too little lease
/// left, or the server stopping before a byte was written — it gives back (pending, the attempt not counted); one whose
/// body is being written when the server stops runs to its deadline and is recorded. Sending happens here, off every
/// request. Times come from the injected clock, so tests move time instead of waiting for it.
/// </summary>
internal sealed class NotificationWorker(OpsDatabase db, NotificationSender sender, NotificationSettings settings, TimeProvider clock,
    PgNotifications listener, ILogger<NotificationWorker> log) : BackgroundService
{
    public const string Channel = PgNotifications.Notifications;
    public static readonly TimeSpan Sweep = TimeSpan.FromSeconds(15);
    const int Batch = 16;

    /// <summary>When attempt <paramref name="attempt"/> (1-based) failed: the next one's time, or null when it was the last.</summary>
    public static DateTimeOffset? RetryAt(NotificationSettings settings, int attempt, DateTimeOffset now, TimeSpan? retryAfter)
    {
        if (attempt >= settings.MaxAttempts) return null;
        var backoff = TimeSpan.FromTicks(Math.Min(settings.FirstRetry.Ticks * (1L << Math.Min(attempt - 1, 30)), settings.MaxRetry.Ticks));
        var asked = retryAfter is { } r ? TimeSpan.FromTicks(Math.Min(r.Ticks, TimeSpan.FromDays(1).Ticks)) : TimeSpan.Zero;
        return now + (asked > backoff ? asked : backoff);
    }

    /// <summary>Sends everything due now, batch after batch; answers how many attempts were made.</summary>
    /// <param name="ct">The server stops: nothing more is claimed, and what was claimed ends as <see cref="DeliverAsync"/> says.</param>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var total = 0;
        if (await DeliveryStore.AnnounceDownsAsync(db.Service, clock.GetUtcNow(), settings.DownGraceSeconds, ct) > 0)
            log.LogInformation("Announced instances that stayed down past {Seconds} s.", settings.DownGraceSeconds);
        while (!ct.IsCancellationRequested)
        {
            // Not cut off half-way: a claim committed but never read would leave its deliveries to their leases ('unknown').
            var claimed = await DeliveryStore.ClaimAsync(db.Service, clock.GetUtcNow(), Batch, settings, CancellationToken.None);
            if (claimed.Count == 0) break;
            await Task.WhenAll(claimed.Select(d => DeliverAsync(d, ct)));
            total += claimed.Count;
        }
        return total;
    }

    /// <summary>Sends one claimed delivery and records (or gives back) its outcome; a worker's own, open to tests that claim by hand.</summary>
    internal async Task DeliverAsync(ClaimedDelivery d, CancellationToken stopping)
    {
        // Recorded even while the server stops: an outcome left unrecorded would end 'unknown' with its lease.
        using var recording = new CancellationTokenSource(settings.RecordMargin);
        // Sent only while the lease covers the whole attempt and its recording: a worker held up since its claim (a
        // pause, a slow batch) gives it back rather than send late.
        var budget = new DateTimeOffset(DateTime.SpecifyKind(d.LeaseUntil, DateTimeKind.Utc)) - clock.GetUtcNow() - settings.RecordMargin;
        var result = stopping.IsCancellationRequested ? new DeliveryResult(DeliveryOutcome.Released, null, "the server is stopping", TimeSpan.Zero)
            : budget <= TimeSpan.Zero ? new DeliveryResult(DeliveryOutcome.Released, null, "too little of its lease was left to send it", TimeSpan.Zero)
            : await sender.SendAsync(d, budget, stopping);
        if (result.Outcome == DeliveryOutcome.Released)
        {
            var released = await DeliveryStore.ReleaseAsync(db.Service, d, recording.Token);
            log.LogWarning("Notification delivery {Delivery} was not sent ({Reason}); {Then}.", d.DeliveryId, result.Error,
                released ? "it is pending again" : "it is no longer this worker's");
            return;
        }
        var now = clock.GetUtcNow();
        var retryAt = result.Outcome == DeliveryOutcome.Retry ? RetryAt(settings, d.Attempt, now, result.RetryAfter) : null;
        var change = await DeliveryStore.FinishAsync(db.Service, d, now, result, retryAt, settings.FailingAfter, recording.Token);
        if (!result.Ok)
            log.LogWarning("Notification {Event} to channel {Channel} ({Kind}) failed, attempt {Attempt}: {Error}; {Next}.", d.Event, d.ChannelId, d.Kind,
                d.Attempt, result.Error, retryAt is { } at ? $"next attempt at {at:u}" : result.Outcome == DeliveryOutcome.Unknown ? "outcome unknown" : "given up");
        if (change == "failing") log.LogWarning("Notification channel {Channel} is failing: {Count} attempts in a row failed.", d.ChannelId, settings.FailingAfter);
        else if (change == "recovered") log.LogInformation("Notification channel {Channel} delivers again.", d.ChannelId);
        else if (change == "lost") log.LogWarning("Notification delivery {Delivery}: redelivered while this attempt ran; its outcome was not recorded.", d.DeliveryId);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var woken = listener.Next(Channel); // taken before reading, so a notification meanwhile is not missed
            var wait = Sweep;
            try
            {
                await RunOnceAsync(stop);
                if (await DeliveryStore.NextDueAsync(db.Service, settings.DownGraceSeconds, stop) is { } due && due - clock.GetUtcNow() < wait)
                    wait = due - clock.GetUtcNow();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                log.LogWarning("Delivering notifications failed ({Message}); trying again in {Seconds} s.", e.Message, Sweep.TotalSeconds);
            }
            if (wait < TimeSpan.FromMilliseconds(50)) wait = TimeSpan.FromMilliseconds(50);
            try { await PgNotifications.WaitAsync(woken, wait, stop); }
            catch (OperationCanceledException) { return; }
        }
    }
}
