namespace OdooOps.Notifications;

/// <summary>
/// A notification channel as its organisation's owners and admins see it: never a secret. <see cref="Target"/> is the
/// webhook's URL, the Slack webhook's host only (its URL is the secret), or the e-mail recipients.
/// </summary>
public sealed record NotificationChannel(
    Guid Id, Guid OrgId, string Name, string Kind, string Target, string? SmtpHost, int? SmtpPort, string? SmtpTls, string? SmtpUsername,
    string? SmtpFrom, string[] Events, Guid[]? ProjectIds, string MinSeverity, bool Enabled, int ConsecutiveFailures, DateTime? FailingSince,
    DateTime? LastDeliveryAt, DateTime? LastSuccessAt, string? LastError, DateTime CreatedAt, DateTime UpdatedAt, bool SecretSet,
    int PendingDeliveries)
{
    /// <summary>ok, failing (since <see cref="FailingSince"/>), disabled, or new (nothing sent yet).</summary>
    public string State => !Enabled ? "disabled" : FailingSince is not null ? "failing" : LastDeliveryAt is null ? "new" : "ok";

    public string[] Recipients => Kind == "email" ? NotificationChannelRules.SplitRecipients(Target) : [];
}

/// <summary>One event sent (or to be sent) to one channel: the log's row.</summary>
public sealed record NotificationDelivery(
    Guid Id, Guid ChannelId, Guid EventId, string Event, Guid? ProjectId, string Summary, string Status, int Attempts,
    DateTime? NextAttemptAt, DateTime? LastAttemptAt, int? ResponseCode, string? Error, int? DurationMs, DateTime? DeliveredAt,
    DateTime? RedeliveredAt, DateTime CreatedAt);

/// <summary>
/// A channel as the API takes it. Creating: name, kind and the kind's fields are required. Changing (PATCH): what is
/// left out keeps its value; secrets (secret, a Slack url, smtp.password) are write-only and kept unless given.
/// </summary>
/// <param name="Url">webhook and slack: where to POST (a Slack or Mattermost incoming webhook URL is itself a secret).</param>
/// <param name="Secret">webhook: the HMAC-SHA256 signing secret (16–200 characters).</param>
/// <param name="Recipients">email: 1–20 addresses.</param>
/// <param name="Smtp">email: its own SMTP server; left out, the server's (OPS_SMTP_*); with an empty host, back to the server's.</param>
/// <param name="ProjectIds">null or empty: every project of the organisation.</param>
public sealed record ChannelRequest(string? Name, string? Kind, string? Url, string? Secret, IReadOnlyList<string>? Recipients, SmtpRequest? Smtp,
    IReadOnlyList<string>? Events, IReadOnlyList<Guid>? ProjectIds, string? MinSeverity, bool? Enabled);

public sealed record SmtpRequest(string? Host, int? Port, string? Tls, string? Username, string? Password, string? From);

/// <summary>A checked channel, ready to store. <see cref="Secret"/>: the new secret in clear (null keeps the stored one, "" removes it).</summary>
internal sealed record ChannelSpec(string Name, string Kind, string Target, string? SmtpHost, int? SmtpPort, string? SmtpTls, string? SmtpUsername,
    string? SmtpFrom, string[] Events, Guid[]? ProjectIds, string MinSeverity, bool Enabled, string? Secret)
{
    /// <summary>What the audit log keeps: no secret, only whether it changed.</summary>
    public object Audit => new { Name, Kind, Target, SmtpHost, SmtpPort, SmtpTls, SmtpUsername, SmtpFrom, Events, ProjectIds, MinSeverity, Enabled,
        SecretChanged = Secret is not null };
}
