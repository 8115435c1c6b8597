namespace OdooOps.Notifications;

/// <summary>
/// A notification channel as its organisation's owners and admins see it: never a secret. <see cref="Target"/> is the
/// webhook's URL, the Slack webhook's host only (its URL is the secret), or the e-mail recipients.
/// </summary>
public sealed record NotificationChannel
{
    public Guid Id { get; init; }
    public Guid OrgId { get; init; }
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Target { get; init; } = "";
    public string? SmtpHost { get; init; }
    public int? SmtpPort { get; init; }
    public string? SmtpTls { get; init; }
    public string? SmtpUsername { get; init; }
    public string? SmtpFrom { get; init; }
    public string[] Events { get; init; } = [];
    /// <summary>null: every project of the organisation.</summary>
    public Guid[]? ProjectIds { get; init; }
    public string MinSeverity { get; init; } = "warning";
    public bool Enabled { get; init; }
    public int ConsecutiveFailures { get; init; }
    public DateTime? FailingSince { get; init; }
    public DateTime? LastDeliveryAt { get; init; }
    public DateTime? LastSuccessAt { get; init; }
    public string? LastError { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    /// <summary>Whether a secret is stored (the signing secret, the Slack URL, the SMTP password); never the secret.</summary>
    public bool SecretSet { get; init; }
    public int PendingDeliveries { get; init; }

    /// <summary>ok, failing (since <see cref="FailingSince"/>), disabled, or new (nothing sent yet).</summary>
    public string State => !Enabled ? "disabled" : FailingSince is not null ? "failing" : LastDeliveryAt is null ? "new" : "ok";

    public string[] Recipients => Kind == "email" ? NotificationChannelRules.SplitRecipients(Target) : [];
}

/// <summary>One event sent (or to be sent) to one channel: the log's row.</summary>
public sealed record NotificationDelivery
{
    public Guid Id { get; init; }
    public Guid ChannelId { get; init; }
    public Guid EventId { get; init; }
    public string Event { get; init; } = "";
    public Guid? ProjectId { get; init; }
    public string Summary { get; init; } = "";
    /// <summary>
    /// pending (waiting for its next attempt, or being sent), delivered, failed (the receiver refused it, the attempts ran
    /// out, or the channel was disabled), or unknown (sent, and no answer came or the server sending it stopped before the
    /// answer was recorded; never sent again by itself).
    /// </summary>
    public string Status { get; init; } = "";
    public int Attempts { get; init; }
    public DateTime? NextAttemptAt { get; init; }
    public DateTime? LastAttemptAt { get; init; }
    public int? ResponseCode { get; init; }
    public string? Error { get; init; }
    public int? DurationMs { get; init; }
    public DateTime? DeliveredAt { get; init; }
    public DateTime? RedeliveredAt { get; init; }
    public DateTime CreatedAt { get; init; }
}

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
