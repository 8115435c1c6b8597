using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using OdooOps.Database;
using OdooOps.Observability;

namespace OdooOps.Advisories;

/// <summary>
/// This OdooOps process measured for the server rules (error_rate_high, request_p95_high, db_pool_saturated). A null
/// measurement is not judged this time, so the rule's advisory is held as it is; a rule whose measurement failed is
/// named in <see cref="Unavailable"/>.
/// </summary>
public sealed record ServerHealth(
    long Requests, double WindowMinutes, double? ErrorRatePct, double? P95Ms,
    string? Pool, long PoolUsed, long PoolMax, double? PoolUsagePct, IReadOnlyList<string> Unavailable)
{
    /// <summary>The inputs.server object of ops.run_advisory_scan (nulls stay null: "not judged").</summary>
    public JsonObject ToJson() => new()
    {
        ["requests"] = Requests,
        ["window_minutes"] = Math.Round(WindowMinutes, 1),
        ["error_rate_pct"] = ErrorRatePct,
        ["p95_ms"] = P95Ms,
        ["pool"] = Pool,
        ["pool_used"] = PoolUsed,
        ["pool_max"] = PoolMax,
        ["pool_usage_pct"] = PoolUsagePct,
    };
}

/// <summary>Replaceable in tests, which cannot drive a real pool to 80 % or a real p95 past 500 ms on demand.</summary>
internal interface IServerHealthProbe
{
    ServerHealth Measure();
}

/// <summary>
/// Reads the server's own metrics (the same ones /metrics shows). Error rate and p95 are judged over the requests
/// since the last judged window, not since start, so an old incident cannot keep the advisory open for ever; a
/// window with fewer than OPS_ADVISORY_SERVER_MIN_REQUESTS requests is not judged (a quiet server's one failed
/// request is not a 100 % error rate) and grows until it has enough. Probes and scrapes (/healthz, /readyz,
/// /metrics) are left out: they are frequent, cheap and would dilute both figures. Pool use is a gauge: the fullest
/// of this server's two pools right now.
/// </summary>
internal sealed class InProcessHealthProbe(HttpMetrics http, DbPoolMetrics pools, OpsDatabase database, AdvisorySettings settings) : IServerHealthProbe
{
    static readonly HashSet<string> Excluded = ["/healthz", "/readyz", ObservabilitySetup.MetricsPath];

    readonly Lock _gate = new();
    Dictionary<HttpMetrics.SeriesKey, long[]> _baseline = [];
    long _baselineTicks = ProcessStartTicks(); // the first window covers everything since start

    public ServerHealth Measure()
    {
        var unavailable = new List<string>();
        (long Requests, double Minutes, double? ErrorRate, double? P95) traffic = (0, 0, null, null);
        try { traffic = MeasureTraffic(); }
        catch (Exception) { unavailable.AddRange(["error_rate_high", "request_p95_high"]); }

        (string? Pool, long Used, long Max, double? Pct) pool = (null, 0, 0, null);
        try { pool = MeasurePools(); }
        catch (Exception) { unavailable.Add("db_pool_saturated"); }

        return new ServerHealth(traffic.Requests, traffic.Minutes, traffic.ErrorRate, traffic.P95, pool.Pool, pool.Used, pool.Max, pool.Pct, unavailable);
    }

    (long Requests, double Minutes, double? ErrorRate, double? P95) MeasureTraffic()
    {
        lock (_gate)
        {
            var now = DateTime.UtcNow.Ticks;
            var current = http.Collect().Where(s => !Excluded.Contains(s.Key.Route)).ToList();
            // Cumulative bucket counts of the window, summed over routes (sums of cumulative series stay cumulative).
            var window = new long[HttpMetrics.BucketBounds.Length + 1];
            long errors = 0;
            foreach (var s in current)
            {
                var before = _baseline.GetValueOrDefault(s.Key);
                for (var i = 0; i < window.Length; i++) window[i] += s.CumulativeCounts[i] - (before?[i] ?? 0);
                if (s.Key.StatusClass == "5xx") errors += s.Count - (before?[^1] ?? 0);
            }
            var requests = window[^1];
            var minutes = TimeSpan.FromTicks(now - _baselineTicks).TotalMinutes;
            if (requests < settings.ServerMinRequests) return (requests, minutes, null, null);

            _baseline = current.ToDictionary(s => s.Key, s => s.CumulativeCounts);
            _baselineTicks = now;
            return (requests, minutes, 100.0 * errors / requests, Quantile(window, 0.95) * 1000);
        }
    }

    static long ProcessStartTicks()
    {
        using var self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime().Ticks;
    }

    /// <summary>
    /// The q-quantile in seconds from cumulative bucket counts, interpolated linearly inside its bucket as
    /// Prometheus' histogram_quantile does; in the +Inf bucket, the largest finite bound (it is at least that).
    /// </summary>
    public static double Quantile(long[] cumulative, double q)
    {
        var bounds = HttpMetrics.BucketBounds;
        var rank = q * cumulative[^1];
        var i = 0;
        while (i < cumulative.Length - 1 && cumulative[i] < rank) i++;
        if (i >= bounds.Length) return bounds[^1];
        var lower = i == 0 ? 0 : bounds[i - 1];
        var below = i == 0 ? 0 : cumulative[i - 1];
        var inBucket = cumulative[i] - below;
        return inBucket == 0 ? bounds[i] : lower + (bounds[i] - lower) * (rank - below) / inBucket;
    }

    (string? Pool, long Used, long Max, double? Pct) MeasurePools()
    {
        // DbPoolMetrics labels a pool by its Application Name ("other" without one); the meter is process-wide, so
        // only this server's two pools are judged.
        string Label(NpgsqlDataSource source) =>
            new NpgsqlConnectionStringBuilder(source.ConnectionString).ApplicationName is { Length: > 0 } name ? name : "other";
        var mine = new[] { Label(database.App), Label(database.Service) };
        var (connections, max) = pools.Collect();
        (string? Pool, long Used, long Max, double? Pct) fullest = (null, 0, 0, null);
        foreach (var m in max.Where(m => mine.Contains(m.Pool) && m.Value > 0))
        {
            var used = connections.Where(c => c.Pool == m.Pool && c.State == "used").Sum(c => c.Value);
            var pct = 100.0 * used / m.Value;
            if (fullest.Pct is null || pct > fullest.Pct) fullest = (m.Pool, used, m.Value, pct);
        }
        return fullest;
    }
}
