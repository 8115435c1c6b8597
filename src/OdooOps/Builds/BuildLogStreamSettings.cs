using OdooOps.Configuration;

namespace OdooOps.Builds;

/// <summary>
/// The live log streams' settings, read when used: how often the server's one watcher looks for changes no notification
/// announced (OPS_BUILD_LOG_POLL_SECONDS, 2), the heartbeat comment's interval (OPS_BUILD_LOG_HEARTBEAT_SECONDS, 15),
/// and how many streams one user (OPS_BUILD_LOG_STREAMS_PER_USER, 20) and the whole process
/// (OPS_BUILD_LOG_STREAMS_MAX, 500) may have open.
/// </summary>
internal sealed class BuildLogStreamSettings(IConfiguration config)
{
    public const string PollKey = "OPS_BUILD_LOG_POLL_SECONDS";
    public const string HeartbeatKey = "OPS_BUILD_LOG_HEARTBEAT_SECONDS";
    public const string PerUserKey = "OPS_BUILD_LOG_STREAMS_PER_USER";
    public const string MaxKey = "OPS_BUILD_LOG_STREAMS_MAX";

    public TimeSpan Poll => TimeSpan.FromSeconds(Math.Clamp(config.GetValue(PollKey, 2.0), 0.1, 60));
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(Math.Clamp(config.GetValue(HeartbeatKey, 15.0), 0.1, 300));
    public int StreamsPerUser => Count(config, PerUserKey, 20, 100_000);
    public int StreamsMax => Count(config, MaxKey, 500, 1_000_000);

    /// <summary>Reads every setting once, so that a bad value stops `serve` at start with a line naming its key.</summary>
    public static void Check(IConfiguration config)
    {
        var settings = new BuildLogStreamSettings(config);
        try { _ = (settings.Poll, settings.Heartbeat); }
        catch (InvalidOperationException)
        {
            throw new InvalidOperationException($"{PollKey} and {HeartbeatKey} must be numbers of seconds.");
        }
        _ = (settings.StreamsPerUser, settings.StreamsMax);
    }

    static int Count(IConfiguration config, string key, int fallback, int max) =>
        (int)OpsConfiguration.WholeNumber(config, key, fallback, 1, max);
}
