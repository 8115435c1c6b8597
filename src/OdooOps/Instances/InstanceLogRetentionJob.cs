using Dapper;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Instances;

/// <summary>
/// The <c>instance_log_retention</c> job (hourly): deletes instance log lines older than OPS_INSTANCE_LOG_RETENTION_DAYS
/// (14) and, per instance, the oldest lines beyond OPS_INSTANCE_LOG_MAX_LINES (100,000), in short transactions of at most
/// <see cref="DeleteBatch"/> lines (ops.prune_instance_logs). Runs as ops_service.
/// </summary>
internal static class InstanceLogRetentionJob
{
    public const string RetentionKey = "OPS_INSTANCE_LOG_RETENTION_DAYS";
    public const string MaxLinesKey = "OPS_INSTANCE_LOG_MAX_LINES";
    public const int DefaultDays = 14;
    public const long DefaultMaxLines = 100_000;

    /// <summary>Lines deleted per transaction: short ones, so that a large backlog holds no lock or WAL for long.</summary>
    public const int DeleteBatch = 10_000;

    public static readonly ScheduledJob Job = new("instance_log_retention", "50 * * * *", RunAsync)
    {
        CheckSettings = config => _ = (Days(config), MaxLines(config)),
        Timeout = TimeSpan.FromMinutes(30),
    };

    public static int Days(IConfiguration config) => OpsConfiguration.Days(config, RetentionKey, DefaultDays);

    public static long MaxLines(IConfiguration config) => OpsConfiguration.WholeNumber(config, MaxLinesKey, DefaultMaxLines, 1_000, 100_000_000);

    static async Task<string> RunAsync(IServiceProvider services, CancellationToken ct)
    {
        var config = services.GetRequiredService<IConfiguration>();
        var (days, maxLines) = (Days(config), MaxLines(config));
        var before = services.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(-days);
        long deleted = 0;
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        while (true)
        {
            // Each call is its own transaction (autocommit).
            var n = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "select ops.prune_instance_logs(@before, @maxLines, @batch)", new { before, maxLines, batch = DeleteBatch }, cancellationToken: ct));
            deleted += n;
            if (n < DeleteBatch) break;
        }
        return $"{deleted} instance log line(s) deleted (older than {days} days, or beyond {maxLines} lines of an instance)";
    }
}
