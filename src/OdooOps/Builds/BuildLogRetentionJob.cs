using Dapper;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Builds;

/// <summary>
/// The <c>build_log_retention</c> job: deletes the log lines of builds that finished more than
/// OPS_BUILD_LOG_RETENTION_DAYS (90) whole UTC days ago, in batches of short transactions (ops.prune_build_logs). The
/// build row stays, with one system line saying when and why its log went; the newest finished build of each branch
/// and its newest successful one keep their logs. Runs as ops_service.
/// </summary>
internal static class BuildLogRetentionJob
{
    public const string RetentionKey = "OPS_BUILD_LOG_RETENTION_DAYS";
    public const int DefaultDays = 90;

    /// <summary>Lines deleted per transaction: short ones, so that a large backlog holds no lock or WAL for long.</summary>
    public const int DeleteBatch = 10_000;

    public static readonly ScheduledJob Job = new("build_log_retention", "45 3 * * *", RunAsync)
    {
        CheckSettings = config => Days(config),
        Timeout = TimeSpan.FromMinutes(30),
    };

    public static int Days(IConfiguration config) => OpsConfiguration.Days(config, RetentionKey, DefaultDays);

    /// <summary>The one line a pruned build's log keeps.</summary>
    public static string Note(DateOnly today, int days) =>
        $"The log of this build was deleted on {today:yyyy-MM-dd}: build logs are kept {days} days after the build finished ({RetentionKey}).";

    static async Task<string> RunAsync(IServiceProvider services, CancellationToken ct)
    {
        var days = Days(services.GetRequiredService<IConfiguration>());
        var today = DateOnly.FromDateTime(services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        var before = new DateTimeOffset(today.AddDays(-days).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var note = Note(today, days);
        long lines = 0, builds = 0;
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        while (true)
        {
            // Each call is its own transaction (autocommit).
            var (deleted, pruned) = await conn.QuerySingleAsync<(long, int)>(new CommandDefinition(
                "select lines_deleted, builds_pruned from ops.prune_build_logs(@before, @note, @batch)",
                new { before, note, batch = DeleteBatch }, cancellationToken: ct));
            lines += deleted;
            builds += pruned;
            if (deleted == 0 && pruned == 0) break;
        }
        return $"{lines} log line(s) of {builds} build(s) finished before {before:yyyy-MM-dd} deleted (retention {days} days)";
    }
}
