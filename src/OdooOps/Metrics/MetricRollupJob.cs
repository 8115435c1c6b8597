using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Metrics;

/// <summary>
/// The <c>rollups</c> job (every minute): folds the samples received since the last fold into the minute and hour
/// rollups (ops.metric_fold_cutoff and ops.metric_receipt_stamp keep the cut-off exact). A backlog — the first fold of a database that
/// already holds samples, or a server that was down — is folded in windows of <see cref="Window"/>, each its own
/// transaction, so a long catch-up makes progress even when it is cut short.
/// </summary>
public static class MetricRollupJob
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    public static readonly ScheduledJob Job = new("rollups", "* * * * *", async (services, ct) =>
        (await FoldAsync(services.GetRequiredService<OpsDatabase>().Service, ct)).ToString());

    public sealed record FoldResult(DateTime FoldedUntil, long Samples, long MinuteBuckets, long HourBuckets, int Windows)
    {
        public override string ToString() =>
            $"{Samples} sample(s) folded into {MinuteBuckets} minute and {HourBuckets} hour bucket(s); folded until {FoldedUntil:yyyy-MM-dd HH:mm:ss.fff}Z";
    }

    sealed record WindowRow(DateTime folded_from, DateTime folded_until, long samples, int minute_buckets, int hour_buckets);

    /// <param name="service">The ops_service data source (the functions are not executable by the request role).</param>
    public static async Task<FoldResult> FoldAsync(NpgsqlDataSource service, CancellationToken ct = default)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        // Alone in its transaction: the lock it takes holds ingest back until that transaction ends.
        var cutoff = await conn.ExecuteScalarAsync<DateTime>(new CommandDefinition("select ops.metric_fold_cutoff()", cancellationToken: ct));
        var result = new FoldResult(cutoff, 0, 0, 0, 0);
        while (true)
        {
            var w = await conn.QuerySingleAsync<WindowRow>(new CommandDefinition(
                "select * from ops.fold_metric_rollups(@cutoff, @Window)", new { cutoff, Window }, cancellationToken: ct));
            result = result with
            {
                FoldedUntil = w.folded_until, Samples = result.Samples + w.samples, Windows = result.Windows + 1,
                MinuteBuckets = result.MinuteBuckets + w.minute_buckets, HourBuckets = result.HourBuckets + w.hour_buckets,
            };
            if (w.folded_until >= cutoff || w.folded_until == w.folded_from) return result;
        }
    }
}
