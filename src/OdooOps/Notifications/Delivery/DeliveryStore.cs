using Dapper;
using Npgsql;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// A delivery a worker claimed, leased until <see cref="LeaseUntil"/>: the event's payload, the channel (an e-mail's
/// <see cref="Target"/> holds only the recipients it may be sent to), and its secret's ciphertext (never logged).
/// </summary>
internal sealed record ClaimedDelivery(Guid DeliveryId, Guid LeaseId, DateTime LeaseUntil, int Attempt, Guid EventId, string Event, DateTime EventCreatedAt, string Summary,
    string Data, Guid OrgId, Guid ChannelId, string ChannelName, string Kind, string Target, string? SmtpHost, int? SmtpPort, string? SmtpTls,
    string? SmtpUsername, string? SmtpFrom, string? Secret);

/// <summary>The delivery workers' SQL, as ops_service (SECURITY DEFINER functions: the service login holds no table).</summary>
internal static class DeliveryStore
{
    public static async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(NpgsqlDataSource service, DateTimeOffset now, int limit,
        NotificationSettings settings, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<ClaimedDelivery>(new CommandDefinition("""
            select delivery_id, lease_id, lease_until, attempt, event_id, event, event_created_at, summary, data::text, org_id, channel_id, channel_name,
                   kind, target, smtp_host, smtp_port, smtp_tls, smtp_username, smtp_from, secret
              from ops.claim_notification_deliveries(@now, @limit, @seconds, @max, @domains)
            """, new { now, limit, seconds = (int)Math.Ceiling(settings.Lease.TotalSeconds), max = settings.MaxAttempts, domains = settings.AllowedEmailDomains },
            cancellationToken: ct))];
    }

    /// <summary>Announces the branches down for longer than the grace (ops.announce_notification_downs); answers how many.</summary>
    public static async Task<int> AnnounceDownsAsync(NpgsqlDataSource service, DateTimeOffset now, int graceSeconds, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.announce_notification_downs(@now, @graceSeconds)",
            new { now, graceSeconds }, cancellationToken: ct));
    }

    /// <summary>Records an attempt; answers the channel's change of state ('failing', 'recovered'), 'lost' when the lease was gone, or null.</summary>
    /// <param name="retryAt">For a failure worth trying again, when; null: failed for good (or an outcome that is not a failure).</param>
    public static async Task<string?> FinishAsync(NpgsqlDataSource service, ClaimedDelivery d, DateTimeOffset now, DeliveryResult result,
        DateTimeOffset? retryAt, int failingAfter, CancellationToken ct)
    {
        var outcome = result.Outcome switch
        {
            DeliveryOutcome.Delivered => "delivered",
            DeliveryOutcome.Unknown => "unknown",
            DeliveryOutcome.Retry or DeliveryOutcome.Failed => "failed",
            _ => throw new ArgumentException($"A {result.Outcome} attempt is released, not recorded.", nameof(result)),
        };
        await using var conn = await service.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<string?>(new CommandDefinition("""
            select ops.finish_notification_delivery(@DeliveryId, @LeaseId, @now, @outcome, @code, @error, @ms, @retryAt, @failingAfter)
            """, new
        {
            d.DeliveryId, d.LeaseId, now, outcome, code = result.StatusCode, error = result.Error,
            ms = (int)Math.Min(result.Duration.TotalMilliseconds, int.MaxValue), retryAt, failingAfter,
        }, cancellationToken: ct));
    }

    /// <summary>Gives back a delivery this worker certainly did not send: pending again, its attempt not counted. Answers whether it was still ours.</summary>
    public static async Task<bool> ReleaseAsync(NpgsqlDataSource service, ClaimedDelivery d, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select ops.release_notification_delivery(@DeliveryId, @LeaseId)",
            new { d.DeliveryId, d.LeaseId }, cancellationToken: ct));
    }

    public static async Task<DateTimeOffset?> NextDueAsync(NpgsqlDataSource service, int graceSeconds, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        var next = await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition("select ops.next_notification_due(@graceSeconds)",
            new { graceSeconds }, cancellationToken: ct));
        return next is { } n ? new DateTimeOffset(DateTime.SpecifyKind(n, DateTimeKind.Utc)) : null;
    }
}

/// <summary>
/// What became of an attempt. Tried again only when the receiver provably did not get it or said it failed
/// (<see cref="Retry"/>); <see cref="Unknown"/> when it was sent and no answer came (never sent again by itself);
/// <see cref="Released"/> when the server stopped before any of it was written (not an attempt at all).
/// </summary>
internal enum DeliveryOutcome { Delivered, Retry, Failed, Unknown, Released }

/// <summary>One attempt's outcome: the receiver's status code, the error (no secret in it) and how long a Retry-After asked to wait.</summary>
internal sealed record DeliveryResult(DeliveryOutcome Outcome, int? StatusCode, string? Error, TimeSpan Duration, TimeSpan? RetryAfter = null)
{
    public bool Ok => Outcome == DeliveryOutcome.Delivered;
}
