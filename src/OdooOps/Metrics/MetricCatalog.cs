using System.Globalization;

namespace OdooOps.Metrics;

/// <summary>
/// How people see a metric: the names the runner's instances push (cpu_pct, mem_mb, …) have a title and a unit; any
/// other pushed metric is shown under its own name. Known metrics come first, in this order, then the rest by name.
/// </summary>
internal static class MetricCatalog
{
    public sealed record Info(string Metric, string Title, string Unit, int Decimals);

    static readonly Info[] Known =
    [
        new("cpu_pct", "CPU", "%", 1),
        new("mem_mb", "Memory", " MB", 0),
        new("mem_pct", "Memory share", "%", 1),
        new("requests", "Requests", "", 0),
        new("request_errors", "Request errors", "", 0),
        new("response_ms", "Response time", " ms", 0),
    ];

    /// <summary>The metrics every overview charts: CPU, memory and requests.</summary>
    public static readonly string[] Headline = ["cpu_pct", "mem_mb", "requests"];

    public static Info For(string metric) => Known.FirstOrDefault(k => k.Metric == metric) ?? new(metric, metric, "", 2);

    /// <summary>Known metrics first in the catalog's order, then the others by name.</summary>
    public static IEnumerable<string> Ordered(IEnumerable<string> metrics) =>
        metrics.Distinct().OrderBy(m => Array.FindIndex(Known, k => k.Metric == m) is var i and >= 0 ? i : Known.Length)
            .ThenBy(m => m, StringComparer.Ordinal);

    /// <summary>"45.2%", "1,024 MB", "0.37": a value with the metric's unit and precision.</summary>
    public static string Format(string metric, double? value)
    {
        if (value is not { } v) return "—";
        var info = For(metric);
        return v.ToString("N" + info.Decimals, CultureInfo.InvariantCulture) + info.Unit;
    }
}
