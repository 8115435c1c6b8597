using System.Globalization;

namespace OdooOps.Runners.Dispatch;

/// <summary>
/// The server's side of running builds: how long a lease lasts without a heartbeat (OPS_RUNNER_LEASE_SECONDS, 30 —
/// after that the rescuer re-queues the build) and how many log lines a build keeps (OPS_BUILD_LOG_MAX_LINES, 100,000).
/// </summary>
internal sealed record DispatchSettings(int LeaseSeconds, long MaxLogLines)
{
    public const string LeaseKey = "OPS_RUNNER_LEASE_SECONDS";
    public const string MaxLogLinesKey = "OPS_BUILD_LOG_MAX_LINES";

    public static DispatchSettings From(IConfiguration config) =>
        new((int)Read(config, LeaseKey, 30, 3, 3600), Read(config, MaxLogLinesKey, 100_000, 1_000, 100_000_000));

    static long Read(IConfiguration config, string key, long fallback, long min, long max)
    {
        var text = config[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new InvalidOperationException($"{key}: '{text}' is not a whole number between {min} and {max}.");
    }
}
