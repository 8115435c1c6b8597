using OdooOps.Configuration;

namespace OdooOps.Runners.Dispatch;

/// <summary>
/// The server's side of running builds: how long a lease lasts without a heartbeat (OPS_RUNNER_LEASE_SECONDS, 30 —
/// after that the rescuer re-queues the build) and how much log a build keeps: OPS_BUILD_LOG_MAX_LINES (100,000) lines
/// and OPS_BUILD_LOG_MAX_BYTES (64 MiB) of line text, whichever comes first.
/// </summary>
internal sealed record DispatchSettings(int LeaseSeconds, long MaxLogLines)
{
    public const string LeaseKey = "OPS_RUNNER_LEASE_SECONDS";
    public const string MaxLogLinesKey = "OPS_BUILD_LOG_MAX_LINES";
    public const string MaxLogBytesKey = "OPS_BUILD_LOG_MAX_BYTES";

    public long MaxLogBytes { get; init; } = 64L << 20;

    public static DispatchSettings From(IConfiguration config) =>
        new((int)OpsConfiguration.WholeNumber(config, LeaseKey, 30, 3, 3600), OpsConfiguration.WholeNumber(config, MaxLogLinesKey, 100_000, 1_000, 100_000_000))
        {
            MaxLogBytes = OpsConfiguration.WholeNumber(config, MaxLogBytesKey, 64L << 20, 1L << 20, 1L << 40),
        };
}
