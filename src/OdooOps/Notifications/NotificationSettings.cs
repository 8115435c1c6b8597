using System.Globalization;

namespace OdooOps.Notifications;

/// <summary>
/// How notifications are delivered, read once at start-up (a bad value stops `serve` with one line naming it):
/// retries (OPS_NOTIFY_MAX_ATTEMPTS, OPS_NOTIFY_RETRY_SECONDS doubling up to OPS_NOTIFY_RETRY_MAX_SECONDS), when a
/// channel counts as failing (OPS_NOTIFY_FAILING_AFTER failed attempts in a row), each attempt's timeout, how long the
/// log is kept, whether channels may point at loopback and private addresses (OPS_NOTIFY_ALLOW_PRIVATE_TARGETS: off,
/// so an organisation admin cannot make the server reach its own network), and the server's SMTP server for e-mail
/// channels that have none of their own (OPS_SMTP_*).
/// </summary>
internal sealed record NotificationSettings(int MaxAttempts, TimeSpan FirstRetry, TimeSpan MaxRetry, int FailingAfter, TimeSpan Timeout,
    int RetentionDays, bool AllowPrivateTargets, SmtpServer? Smtp)
{
    public const string MaxAttemptsKey = "OPS_NOTIFY_MAX_ATTEMPTS";
    public const string RetryKey = "OPS_NOTIFY_RETRY_SECONDS";
    public const string MaxRetryKey = "OPS_NOTIFY_RETRY_MAX_SECONDS";
    public const string FailingAfterKey = "OPS_NOTIFY_FAILING_AFTER";
    public const string TimeoutKey = "OPS_NOTIFY_TIMEOUT_SECONDS";
    public const string RetentionKey = "OPS_NOTIFY_RETENTION_DAYS";
    public const string AllowPrivateKey = "OPS_NOTIFY_ALLOW_PRIVATE_TARGETS";

    /// <summary>How long a worker holds a delivery while sending it: well past the timeout, so a live worker never loses it.</summary>
    public TimeSpan Lease => Timeout * 3 + TimeSpan.FromSeconds(30);

    public static NotificationSettings From(IConfiguration config) => new(
        Int(config, MaxAttemptsKey, 8, 1, 50),
        TimeSpan.FromSeconds(Int(config, RetryKey, 30, 1, 86_400)),
        TimeSpan.FromSeconds(Int(config, MaxRetryKey, 3600, 1, 604_800)),
        Int(config, FailingAfterKey, 5, 1, 1000),
        TimeSpan.FromSeconds(Int(config, TimeoutKey, 10, 1, 300)),
        RetentionDaysOf(config),
        Flag(config, AllowPrivateKey),
        SmtpServer.Read(config));

    /// <summary>OPS_NOTIFY_RETENTION_DAYS alone, for the retention job (which runs with the configuration only).</summary>
    public static int RetentionDaysOf(IConfiguration config) => Int(config, RetentionKey, 30, 1, 36_500);

    internal static int Int(IConfiguration config, string key, int fallback, int min, int max)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        return int.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new InvalidOperationException($"{key} must be a whole number from {min} to {max} (got '{raw}').");
    }

    static bool Flag(IConfiguration config, string key) => config[key]?.Trim().ToLowerInvariant() switch
    {
        null or "" or "0" or "false" or "no" => false,
        "1" or "true" or "yes" => true,
        var other => throw new InvalidOperationException($"{key} must be 1 or 0 (got '{other}')."),
    };
}

/// <summary>An SMTP server: the server-wide one (OPS_SMTP_*), or an e-mail channel's own.</summary>
/// <param name="Tls">auto (STARTTLS when offered), starttls (required), tls (implicit, port 465), none (plain text).</param>
internal sealed record SmtpServer(string Host, int Port, string Tls, string? Username, string? Password, string From)
{
    public const string HostKey = "OPS_SMTP_HOST", PortKey = "OPS_SMTP_PORT", TlsKey = "OPS_SMTP_TLS", UsernameKey = "OPS_SMTP_USERNAME",
        PasswordKey = "OPS_SMTP_PASSWORD", FromKey = "OPS_SMTP_FROM";

    public static readonly string[] TlsModes = ["auto", "starttls", "tls", "none"];

    public static SmtpServer? Read(IConfiguration config)
    {
        if (string.IsNullOrWhiteSpace(config[HostKey])) return null;
        var tls = string.IsNullOrWhiteSpace(config[TlsKey]) ? "auto" : config[TlsKey]!.Trim().ToLowerInvariant();
        if (!TlsModes.Contains(tls)) throw new InvalidOperationException($"{TlsKey} must be one of {string.Join(", ", TlsModes)} (got '{config[TlsKey]}').");
        var from = config[FromKey]?.Trim();
        if (string.IsNullOrEmpty(from) || !NotificationChannelRules.IsEmail(from))
            throw new InvalidOperationException($"{FromKey} (the sender of notification e-mails, e.g. odooops@example.com) is required with {HostKey}.");
        return new(config[HostKey]!.Trim(), NotificationSettings.Int(config, PortKey, tls == "tls" ? 465 : 587, 1, 65535), tls,
            NullIfEmpty(config[UsernameKey]), NullIfEmpty(Secrets.SecretsSetup.Value(config, PasswordKey)), from);
    }

    static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>What the API and the page may show: never the password.</summary>
    public override string ToString() => $"{Host}:{Port} ({Tls})";
}
