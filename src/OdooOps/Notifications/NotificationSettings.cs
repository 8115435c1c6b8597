using System.Globalization;

namespace OdooOps.Notifications;

/// <summary>
/// How notifications are delivered, read once at start-up (a bad value stops `serve` with one line naming it):
/// retries (OPS_NOTIFY_MAX_ATTEMPTS, OPS_NOTIFY_RETRY_SECONDS doubling up to OPS_NOTIFY_RETRY_MAX_SECONDS), when a
/// channel counts as failing (OPS_NOTIFY_FAILING_AFTER failed attempts in a row), each attempt's timeout, how long the
/// log is kept, whether channels may point at loopback and private addresses (OPS_NOTIFY_ALLOW_PRIVATE_TARGETS: off,
/// so an organisation admin cannot make the server reach its own network), the server's SMTP server for e-mail
/// channels that have none of their own (OPS_SMTP_*) and whom it may mail besides members (OPS_NOTIFY_EMAIL_DOMAINS),
/// how long an instance stays down before it is announced (OPS_NOTIFY_DOWN_GRACE_SECONDS) and how many tests a channel
/// may be sent (OPS_NOTIFY_TEST_LIMIT per 10 minutes), and the addresses this server is known by besides its interfaces'
/// (OPS_PUBLIC_ADDRESSES), which channels may not reach.
/// </summary>
internal sealed record NotificationSettings(int MaxAttempts, TimeSpan FirstRetry, TimeSpan MaxRetry, int FailingAfter, TimeSpan Timeout,
    int RetentionDays, bool AllowPrivateTargets, SmtpServer? Smtp, int DownGraceSeconds = 60, int TestLimit = 5, string[]? EmailDomains = null,
    IReadOnlyList<System.Net.IPAddress>? PublicAddresses = null)
{
    public const string MaxAttemptsKey = "OPS_NOTIFY_MAX_ATTEMPTS";
    public const string RetryKey = "OPS_NOTIFY_RETRY_SECONDS";
    public const string MaxRetryKey = "OPS_NOTIFY_RETRY_MAX_SECONDS";
    public const string FailingAfterKey = "OPS_NOTIFY_FAILING_AFTER";
    public const string TimeoutKey = "OPS_NOTIFY_TIMEOUT_SECONDS";
    public const string RetentionKey = "OPS_NOTIFY_RETENTION_DAYS";
    public const string AllowPrivateKey = "OPS_NOTIFY_ALLOW_PRIVATE_TARGETS";
    public const string DownGraceKey = "OPS_NOTIFY_DOWN_GRACE_SECONDS";
    public const string TestLimitKey = "OPS_NOTIFY_TEST_LIMIT";
    public const string EmailDomainsKey = "OPS_NOTIFY_EMAIL_DOMAINS";

    /// <summary>The longest one attempt may take, whatever happens: a webhook's <see cref="Timeout"/>, twice that for SMTP's dialogue.</summary>
    public TimeSpan AttemptDeadline => Timeout * 2;

    /// <summary>
    /// How long a worker holds a delivery it sends: the attempt's whole deadline and time to record its outcome. A live
    /// worker is always done before its lease ends, so a lease that runs out means the worker stopped: outcome unknown.
    /// </summary>
    public TimeSpan Lease => AttemptDeadline + RecordMargin;

    /// <summary>What a lease keeps beyond the attempt for recording its outcome in the database.</summary>
    public TimeSpan RecordMargin => Timeout + TimeSpan.FromSeconds(30);

    /// <summary>The domains (lower case) whose addresses e-mail channels may name on the server's SMTP server besides members'; "*": any.</summary>
    public string[] AllowedEmailDomains => EmailDomains ?? [];

    /// <summary>The addresses this server is known by besides its interfaces' (OPS_PUBLIC_ADDRESSES: a NAT's, a load balancer's).</summary>
    public IReadOnlyList<System.Net.IPAddress> OwnAddresses => PublicAddresses ?? [];

    public static NotificationSettings From(IConfiguration config) => new(
        Int(config, MaxAttemptsKey, 8, 1, 50),
        TimeSpan.FromSeconds(Int(config, RetryKey, 30, 1, 86_400)),
        TimeSpan.FromSeconds(Int(config, MaxRetryKey, 3600, 1, 604_800)),
        Int(config, FailingAfterKey, 5, 1, 1000),
        TimeSpan.FromSeconds(Int(config, TimeoutKey, 10, 1, 300)),
        RetentionDaysOf(config),
        Flag(config, AllowPrivateKey),
        SmtpServer.Read(config),
        Int(config, DownGraceKey, 60, 0, 3600),
        Int(config, TestLimitKey, 5, 1, 100),
        Domains(config),
        Instances.Domains.DomainChecker.ParseAddresses(config[Instances.Domains.DomainChecker.PublicAddressesKey]));

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

    static string[] Domains(IConfiguration config)
    {
        var list = (config[EmailDomainsKey] ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.TrimStart('@').ToLowerInvariant()).Distinct().ToArray();
        foreach (var d in list.Where(d => d != "*" && !NotificationChannelRules.IsEmail("x@" + d)))
            throw new InvalidOperationException($"{EmailDomainsKey} must be domains separated by commas (e.g. example.com,example.org) or * (got '{d}').");
        return list;
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
