using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OdooOps.Advisories;

/// <summary>
/// The advisory rules' thresholds from configuration (environment, appsettings.json). Only keys that are set are
/// sent to ops.run_advisory_scan, under their name without OPS_ADVISORY_ in lower case (OPS_ADVISORY_CPU_HIGH_PCT →
/// cpu_high_pct); the defaults live in the rule functions alone (Advisories/Sql), so the SQL and the host can never disagree on them.
/// A value that is not a positive number (or, for the runtimes, a list of Odoo versions) stops the server at start
/// with the key named, rather than silently scanning with a default.
/// </summary>
internal sealed partial class AdvisorySettings
{
    public const string Prefix = "OPS_ADVISORY_";

    /// <summary>The numeric thresholds (defaults in the rule functions: 85, 90, 15, 15, 24, 3, 5, 30, 1, 500, 80).</summary>
    public static readonly string[] NumericKeys =
    [
        "OPS_ADVISORY_CPU_HIGH_PCT", "OPS_ADVISORY_MEMORY_HIGH_PCT", "OPS_ADVISORY_METRIC_WINDOW_MINUTES",
        "OPS_ADVISORY_METRICS_MISSING_MINUTES", "OPS_ADVISORY_METRICS_LOOKBACK_HOURS", "OPS_ADVISORY_REPEATED_FAILURES",
        "OPS_ADVISORY_REPEATED_FAILURES_OF", "OPS_ADVISORY_QUEUE_STUCK_MINUTES", "OPS_ADVISORY_ERROR_RATE_PCT",
        "OPS_ADVISORY_P95_MS", "OPS_ADVISORY_DB_POOL_PCT",
    ];

    public const string SupportedRuntimesKey = "OPS_ADVISORY_SUPPORTED_RUNTIMES";
    public const string DefaultSupportedRuntimes = "17.0,18.0,19.0";

    /// <summary>Host-side only: the error rate and p95 wait for this many requests since the last judged window.</summary>
    public const string ServerMinRequestsKey = "OPS_ADVISORY_SERVER_MIN_REQUESTS";
    public const int DefaultServerMinRequests = 20;

    readonly JsonObject _thresholds;

    public int ServerMinRequests { get; }

    AdvisorySettings(JsonObject thresholds, int serverMinRequests)
    {
        _thresholds = thresholds;
        ServerMinRequests = serverMinRequests;
    }

    /// <summary>A fresh copy of the configured thresholds, for one scan's inputs.</summary>
    public JsonObject Thresholds() => (JsonObject)_thresholds.DeepClone();

    public static AdvisorySettings FromConfiguration(IConfiguration config)
    {
        var thresholds = new JsonObject();
        foreach (var key in NumericKeys)
            if (Configured(config, key) is { } raw) thresholds[JsonKey(key)] = PositiveNumber(key, raw);

        if (Configured(config, SupportedRuntimesKey) is { } runtimes)
        {
            var versions = runtimes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (versions.Length == 0 || versions.Any(v => !VersionPattern().IsMatch(v)))
                throw new InvalidOperationException($"{SupportedRuntimesKey} must list Odoo versions separated by commas, such as {DefaultSupportedRuntimes} (got '{runtimes}').");
            thresholds[JsonKey(SupportedRuntimesKey)] = new JsonArray([.. versions.Select(v => JsonValue.Create(v))]);
        }

        var minRequests = Configured(config, ServerMinRequestsKey) is { } min ? PositiveNumber(ServerMinRequestsKey, min) : DefaultServerMinRequests;
        return new AdvisorySettings(thresholds, (int)Math.Ceiling(minRequests));
    }

    /// <summary>OPS_ADVISORY_CPU_HIGH_PCT → cpu_high_pct.</summary>
    public static string JsonKey(string configKey) => configKey[Prefix.Length..].ToLowerInvariant();

    static string? Configured(IConfiguration config, string key) => config[key] is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    static double PositiveNumber(string key, string raw) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value > 0
            ? value
            : throw new InvalidOperationException($"{key} must be a positive number (got '{raw}').");

    [GeneratedRegex(@"^(saas-)?[0-9]{1,3}\.[0-9]{1,2}$")] private static partial Regex VersionPattern();
}
