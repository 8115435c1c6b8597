using System.Globalization;
using System.Text.Json;
using OdooOps.Deployments;

namespace OdooOps.Metrics.Pages;

/// <summary>
/// The Metrics page's words and links, and the JSON its chart script reads (embedded in data attributes, so the page
/// needs no second request and no inline script): pure functions, tested without a browser.
/// </summary>
internal static class MetricsView
{
    public const string Custom = "custom";
    public const string DefaultRange = "24h";

    /// <summary>The range links, in order, with their words.</summary>
    public static readonly (string Key, string Title, string Words)[] Ranges =
    [
        ("1h", "1 h", "the last hour"), ("24h", "24 h", "the last 24 hours"), ("7d", "7 d", "the last 7 days"), ("30d", "30 d", "the last 30 days"),
        (Custom, "Custom", "a custom range"),
    ];

    public static string Words(string range) => Ranges.FirstOrDefault(r => r.Key == range).Words ?? range;

    /// <summary>The page's address for these choices (custom keeps its bounds).</summary>
    public static string Link(string? project, string? branch, string range, string? from = null, string? to = null)
    {
        var query = new List<string>();
        if (project is not null) query.Add("project=" + Uri.EscapeDataString(project));
        if (branch is not null) query.Add("branch=" + Uri.EscapeDataString(branch));
        query.Add("range=" + Uri.EscapeDataString(range));
        if (range == Custom && from is not null) query.Add("from=" + Uri.EscapeDataString(from));
        if (range == Custom && to is not null) query.Add("to=" + Uri.EscapeDataString(to));
        return "app/metrics?" + string.Join('&', query);
    }

    /// <summary>A datetime-local field's value ("2026-02-12T17:30", read as UTC) as the series query takes it; other text as it is.</summary>
    public static string? AsUtc(string? input) =>
        string.IsNullOrWhiteSpace(input) ? null
        : DateTime.TryParseExact(input.Trim(), ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            ? input.Trim() + "Z"
            : input.Trim();

    /// <summary>A UTC instant as a datetime-local field's value.</summary>
    public static string Input(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    /// <summary>"minute rollups, 5 min steps": where the numbers come from.</summary>
    public static string Source(MetricSeriesQuery q) =>
        $"{(q.Resolution == MetricResolution.Raw ? "raw samples" : q.Resolution.ToString().ToLowerInvariant() + " rollups")}, " +
        $"{Step(q.Step)} steps";

    /// <summary>"15 s", "5 min", "3 h", "1 d".</summary>
    public static string Step(TimeSpan step) => step switch
    {
        { TotalMinutes: < 1 } => $"{(int)step.TotalSeconds} s",
        { TotalHours: < 1 } => $"{(int)step.TotalMinutes} min",
        { TotalDays: < 1 } => $"{(int)step.TotalHours} h",
        _ => $"{(int)step.TotalDays} d",
    };

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    static long Epoch(DateTime utc) => (long)(DateTime.SpecifyKind(utc, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds;

    /// <summary>One chart's data: epoch seconds and, per bucket, the mean, min and max; the span and step for its axis.</summary>
    public static string ChartJson(MetricBoard.Series s, MetricSeriesQuery q)
    {
        var info = MetricCatalog.For(s.Summary.Metric);
        return JsonSerializer.Serialize(new
        {
            metric = info.Metric, title = info.Title, unit = info.Unit, decimals = info.Decimals,
            from = Epoch(q.From), to = Epoch(q.To), step = (long)q.Step.TotalSeconds,
            t = s.Points.Select(p => Epoch(p.Ts)), avg = s.Points.Select(p => Math.Round(p.Avg, 4)),
            min = s.Points.Select(p => p.Min), max = s.Points.Select(p => p.Max),
        }, Json);
    }

    /// <summary>The deployments as marks on the time axis: when, a short label, and whether it failed.</summary>
    public static string MarkersJson(IReadOnlyList<DeploymentStore.Marker> markers) =>
        JsonSerializer.Serialize(markers.Select(m => new { t = Epoch(m.At), label = MarkerLabel(m), failed = m.Status is "failed" or "reverted" }), Json);

    public static string MarkerLabel(DeploymentStore.Marker m) =>
        (m.Kind == "rollback" ? "rollback" : m.Status is "failed" or "reverted" ? $"{m.Status} deploy" : "deploy")
        + (m.CommitSha is { Length: > 0 } sha ? " " + sha[..Math.Min(7, sha.Length)] : "");
}
