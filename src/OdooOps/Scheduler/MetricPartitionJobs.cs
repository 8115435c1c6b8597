using System.Globalization;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.Scheduler;

/// <summary>
/// The day partitions of ops.metric_samples (one per UTC day): <c>partition_maintenance</c> keeps yesterday through
/// a week ahead in place, so ingest never has to create one on its hot path; <c>retention</c> drops the days older
/// than OPS_RAW_RETENTION_DAYS (raw samples only: rollups live in their own tables). Both run as ops_service.
/// </summary>
public static class MetricPartitionJobs
{
    public const string RetentionDaysKey = "OPS_RAW_RETENTION_DAYS";
    public const int DefaultRetentionDays = 14;
    public const int DaysAhead = 7;

    public static readonly ScheduledJob PartitionMaintenance = new("partition_maintenance", "0 * * * *", EnsurePartitionsAsync);

    public static readonly ScheduledJob Retention = new("retention", "30 3 * * *", DropOldPartitionsAsync)
    {
        CheckSettings = config => RetentionDays(config),
    };

    /// <summary>OPS_RAW_RETENTION_DAYS, whole days of raw samples kept before today (default 14).</summary>
    public static int RetentionDays(IConfiguration config)
    {
        var raw = config[RetentionDaysKey];
        if (string.IsNullOrWhiteSpace(raw)) return DefaultRetentionDays;
        return int.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 3650
            ? days
            : throw new InvalidOperationException($"{RetentionDaysKey}: '{raw}' is not a whole number of days between 1 and 3650.");
    }

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

    static async Task<string> DropOldPartitionsAsync(IServiceProvider services, CancellationToken ct)
    {
        var keep = RetentionDays(services.GetRequiredService<IConfiguration>());
        // The partition of day D is dropped when D < today - keep, so the last `keep` whole days before today stay.
        var before = Today(services).AddDays(-keep);
        var dropped = await ScalarAsync(services, "select ops.drop_metric_partitions_before($1)", ct, before);
        return $"{dropped} partition(s) before {before:yyyy-MM-dd} dropped (retention {keep} days)";
    }

    static async Task<int> ScalarAsync(IServiceProvider services, string sql, CancellationToken ct, params object[] args)
    {
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return (int)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
