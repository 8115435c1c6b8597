using Npgsql;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Metrics;

/// <summary>
/// The day partitions of ops.metric_samples (one per UTC day) and the age limits of every metric resolution:
/// <c>partition_maintenance</c> keeps yesterday through a week ahead in place, so ingest never has to create one on its
/// hot path; <c>retention</c> drops the raw days older than OPS_RAW_RETENTION_DAYS (whole partitions) and deletes
/// minute and hour rollups older than theirs (<see cref="MetricRetention"/>) in batches, and has the scheduler prune its
/// own history (<see cref="JobRunStore.RetentionKey"/>). Both run as ops_service.
/// </summary>
internal static class MetricJobs
{
    public const int DaysAhead = 7;

    /// <summary>Rollup rows deleted per transaction: short transactions keep a large backlog from holding locks or WAL.</summary>
    public const int RollupDeleteBatch = 10_000;

    public static readonly ScheduledJob PartitionMaintenance = new("partition_maintenance", "0 * * * *", EnsurePartitionsAsync);

    public static readonly ScheduledJob Retention = new("retention", "30 3 * * *", RunRetentionAsync)
    {
        CheckSettings = config =>
        {
            MetricRetention.From(config);
            JobRunStore.RetentionDays(config);
        },
        Timeout = TimeSpan.FromMinutes(30),
    };

    static DateOnly Today(IServiceProvider services) =>
        DateOnly.FromDateTime(services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);

    static async Task<string> EnsurePartitionsAsync(IServiceProvider services, CancellationToken ct)
    {
        var today = Today(services);
        var from = today.AddDays(-1); // late samples for yesterday still arrive after midnight
        var days = 2 + DaysAhead;
        var created = await ScalarAsync(services, "select ops.ensure_metric_partitions($1, $2)", ct, from, days);
        return $"{created} partition(s) created; {from:yyyy-MM-dd}..{today.AddDays(DaysAhead):yyyy-MM-dd} present";
    }

    static async Task<string> RunRetentionAsync(IServiceProvider services, CancellationToken ct)
    {
        var keep = MetricRetention.From(services.GetRequiredService<IConfiguration>());
        var today = Today(services);
        // The partition of day D is dropped when D < today - keep, so the last `keep` whole days before today stay.
        var before = today.AddDays(-keep.RawDays);
        var dropped = await ScalarAsync(services, "select ops.drop_metric_partitions_before($1)", ct, before);
        var minutes = await DeleteRollupsAsync(services, "minute", today.AddDays(-keep.MinuteDays), ct);
        var hours = await DeleteRollupsAsync(services, "hour", today.AddDays(-keep.HourDays), ct);
        var runDays = JobRunStore.RetentionDays(services.GetRequiredService<IConfiguration>());
        var runsBefore = new DateTimeOffset(today.AddDays(-runDays).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var runs = await JobRunStore.DeleteBeforeAsync(services.GetRequiredService<OpsDatabase>().Service, runsBefore, ct);
        return $"{dropped} partition(s) before {before:yyyy-MM-dd} dropped (retention {keep.RawDays} days); " +
               $"{minutes} minute rollup(s) before {today.AddDays(-keep.MinuteDays):yyyy-MM-dd} and " +
               $"{hours} hour rollup(s) before {today.AddDays(-keep.HourDays):yyyy-MM-dd} deleted; " +
               $"{runs} job run(s) before {runsBefore:yyyy-MM-dd} deleted";
    }

    static async Task<long> DeleteRollupsAsync(IServiceProvider services, string resolution, DateOnly before, CancellationToken ct)
    {
        var cutoff = new DateTimeOffset(before.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        long total = 0;
        int deleted;
        do
        {
            // Each call is its own transaction (autocommit).
            deleted = await ScalarAsync(services, "select ops.delete_metric_rollups_before($1, $2, $3)", ct, resolution, cutoff, RollupDeleteBatch);
            total += deleted;
        } while (deleted == RollupDeleteBatch);
        return total;
    }

    static async Task<int> ScalarAsync(IServiceProvider services, string sql, CancellationToken ct, params object[] args)
    {
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return (int)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
