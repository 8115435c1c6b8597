namespace OdooOps.Metrics;

/// <summary>
/// The ingest endpoint's limits. Raw samples are kept <see cref="RawRetentionDays"/> days (OPS_RAW_RETENTION_DAYS,
/// default 14): a sample older than that would be dropped with its partition at once, so it is refused (422) rather
/// than stored and silently lost. Samples more than 5 minutes ahead of the server's clock are a client clock problem
/// (400), not data.
/// </summary>
internal sealed record IngestSettings(int RawRetentionDays)
{
    public const int MaxBodyBytes = 1 << 20;
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    /// <summary>Reads OPS_RAW_RETENTION_DAYS through <see cref="MetricRetention"/>, which checks it against the rollups'.</summary>
    public static IngestSettings From(IConfiguration config) => new(MetricRetention.From(config).RawDays);

    /// <summary>
    /// Future timestamps go to <paramref name="invalid"/> (400); ones older than retention to <paramref name="tooOld"/>
    /// (422). The batch ts is checked whenever it is given; each sample's own ts where it has one.
    /// </summary>
    public void CheckTimes(IngestBatch batch, DateTime nowUtc, IngestErrors invalid, IngestErrors tooOld)
    {
        var latest = nowUtc + FutureTolerance;
        var oldest = nowUtc.AddDays(-RawRetentionDays);
        void Check(string field, DateTime ts)
        {
            if (ts > latest)
                invalid.Add(field, $"{field} is more than 5 minutes in the future (server time {IngestTimestamp.Format(nowUtc)}): check the sender's clock.");
            else if (ts < oldest)
                tooOld.Add(field, $"{field} is older than the raw retention of {RawRetentionDays} days ({MetricRetention.RawKey}); such samples would be dropped at once.");
        }
        if (batch.BatchTs is { } batchTs) Check("ts", batchTs);
        for (var i = 0; i < batch.Count; i++)
            if (batch.SampleTs[i] is { } ts) Check($"samples[{i}].ts", ts);
    }
}
