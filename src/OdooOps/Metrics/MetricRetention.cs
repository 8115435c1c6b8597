using OdooOps.Configuration;

namespace OdooOps.Metrics;

/// <summary>
/// How long each resolution of a metric is kept, in whole days: raw samples (OPS_RAW_RETENTION_DAYS, 14), minute
/// rollups (OPS_MINUTE_ROLLUP_RETENTION_DAYS, 90) and hour rollups (OPS_HOUR_ROLLUP_RETENTION_DAYS, 730). Each coarser
/// resolution must be kept at least as long as the finer one: a late sample recomputes its minute bucket from raw
/// samples and its hour bucket from minute rows, so those must still be there.
/// </summary>
internal sealed record MetricRetention(int RawDays, int MinuteDays, int HourDays)
{
    public const string RawKey = "OPS_RAW_RETENTION_DAYS";
    public const string MinuteKey = "OPS_MINUTE_ROLLUP_RETENTION_DAYS";
    public const string HourKey = "OPS_HOUR_ROLLUP_RETENTION_DAYS";

    public static readonly MetricRetention Default = new(14, 90, 730);

    /// <summary>Throws a one-line message naming the key for a value that is not a whole number of days or is out of order.</summary>
    public static MetricRetention From(IConfiguration config)
    {
        var raw = OpsConfiguration.Days(config, RawKey, Default.RawDays);
        var minute = OpsConfiguration.Days(config, MinuteKey, Default.MinuteDays);
        var hour = OpsConfiguration.Days(config, HourKey, Default.HourDays);
        if (minute < raw)
            throw new InvalidOperationException($"{MinuteKey} ({minute}) must be at least {RawKey} ({raw}): minute rollups are recomputed from raw samples.");
        if (hour < minute)
            throw new InvalidOperationException($"{HourKey} ({hour}) must be at least {MinuteKey} ({minute}): hour rollups are recomputed from minute rollups.");
        return new MetricRetention(raw, minute, hour);
    }
}
