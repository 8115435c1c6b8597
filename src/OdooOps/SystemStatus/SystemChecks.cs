using System.Globalization;
using OdooOps.Observability;

namespace OdooOps.SystemStatus;

/// <summary>
/// The specification's alerts — function errors above 1 %, API time above 500 ms at the 95th percentile, pool
/// saturation above 80 %, console availability under 99 % — and the queue, runners and jobs, as checks with their
/// thresholds. Request figures are this process's since it started (<see cref="HttpMetrics"/>); pure, tested alone.
/// </summary>
internal static class SystemChecks
{
    public const double ErrorRatePct = 1, SlowP95Ms = 500, PoolSaturationPct = 80;

    public static IReadOnlyList<SystemReport.Check> Evaluate(IReadOnlyList<HttpMetrics.Snapshot> http, SystemReport.DatabaseState db,
        SystemReport.Queue queue, SystemReport.RunnerCounts runners, IReadOnlyList<SystemReport.Job> jobs) =>
    [
        ErrorRate("Function errors", Matching(http, "/functions/"), "the specification's functions (ingest, advisory scan, trigger build)"),
        ApiTime(Matching(http, "/api/ops/")),
        ErrorRate("Console availability", Matching(http, "/app", "/login"), "console pages answered without a server error"),
        Pools(db),
        Queue(queue),
        Runners(runners, queue),
        Jobs(jobs),
    ];

    static List<HttpMetrics.Snapshot> Matching(IReadOnlyList<HttpMetrics.Snapshot> http, params string[] prefixes) =>
        [.. http.Where(s => prefixes.Any(p => s.Key.Route.StartsWith(p, StringComparison.Ordinal)))];

    static string Pct(double value) => value.ToString("0.##", CultureInfo.InvariantCulture) + " %";

    static SystemReport.Check ErrorRate(string name, List<HttpMetrics.Snapshot> series, string what)
    {
        var total = series.Sum(s => s.Count);
        if (total == 0) return new(name, SystemReport.Unknown, "no requests yet", $"≤ {Pct(ErrorRatePct)} server errors", what);
        var errors = series.Where(s => s.Key.StatusClass == "5xx").Sum(s => s.Count);
        var rate = errors * 100.0 / total;
        return new(name, rate > ErrorRatePct ? SystemReport.Warning : SystemReport.Ok, $"{Pct(rate)} ({errors} of {total})",
            $"≤ {Pct(ErrorRatePct)} server errors", what);
    }

    /// <summary>The 95th percentile from the request histogram: the upper bound of the bucket it falls in.</summary>
    static SystemReport.Check ApiTime(List<HttpMetrics.Snapshot> series)
    {
        const string name = "API response time", threshold = "p95 ≤ 500 ms", what = "REST API requests, this process since it started";
        var total = series.Sum(s => s.Count);
        if (total == 0) return new(name, SystemReport.Unknown, "no requests yet", threshold, what);
        var cumulative = new long[HttpMetrics.BucketBounds.Length + 1];
        foreach (var s in series) for (var i = 0; i < cumulative.Length; i++) cumulative[i] += s.CumulativeCounts[i];
        var bucket = Array.FindIndex(cumulative, c => c >= 0.95 * total);
        var bound = bucket < HttpMetrics.BucketBounds.Length ? HttpMetrics.BucketBounds[bucket] * 1000 : double.PositiveInfinity;
        var value = double.IsInfinity(bound) ? "p95 > 10 s" : $"p95 ≤ {bound:0} ms";
        return new(name, bound > SlowP95Ms ? SystemReport.Warning : SystemReport.Ok, $"{value} ({total} requests)", threshold, what);
    }

    static SystemReport.Check Pools(SystemReport.DatabaseState db)
    {
        const string name = "Connection pool saturation", threshold = "≤ 80 % of each pool";
        var connections = db.Connections.Sum(c => c.Connections);
        var across = $"{connections} of the database's {db.MaxConnections} connections are open (every replica)";
        var busiest = db.Pools.Where(p => p.Max > 0).OrderByDescending(p => (double)p.Used / p.Max).FirstOrDefault();
        if (busiest is null) return new(name, SystemReport.Unknown, "no pool open yet", threshold, across);
        var pct = busiest.Used * 100.0 / busiest.Max;
        return new(name, pct > PoolSaturationPct ? SystemReport.Warning : SystemReport.Ok, $"{Pct(pct)} ({busiest.Name}: {busiest.Used} of {busiest.Max})",
            threshold, across);
    }

    static SystemReport.Check Queue(SystemReport.Queue q) =>
        new("Build queue", q.StuckProjects > 0 ? SystemReport.Warning : SystemReport.Ok,
            $"{q.Queued} queued, {q.Leased} running",
            "no project's queue stuck (build_queue_stuck advisory)",
            q.StuckProjects > 0 ? $"{q.StuckProjects} project(s) have builds waiting too long" : q.OldestProject is { } p ? $"oldest waiting: {p}" : "nothing waits");

    static SystemReport.Check Runners(SystemReport.RunnerCounts r, SystemReport.Queue q) =>
        new("Runners online", r.Online == 0 && q.Queued > 0 ? SystemReport.Warning : r.Online == 0 ? SystemReport.Unknown : SystemReport.Ok,
            $"{r.Online} of {r.Total} ({r.Capacity} builds at once)", "at least one while builds wait",
            r.Disabled > 0 ? $"{r.Disabled} disabled" : "seen in the last minute");

    static SystemReport.Check Jobs(IReadOnlyList<SystemReport.Job> jobs)
    {
        var failing = jobs.Where(j => j.RecentRuns.FirstOrDefault()?.Outcome == "failed").Select(j => j.Name).ToList();
        var failedDay = jobs.Sum(j => j.FailedLastDay);
        return new("Scheduled jobs", failing.Count > 0 ? SystemReport.Warning : SystemReport.Ok, $"{failedDay} failed run(s) in 24 h",
            "every job's last run succeeded", failing.Count > 0 ? "last run failed: " + string.Join(", ", failing) : $"{jobs.Count} jobs");
    }
}
