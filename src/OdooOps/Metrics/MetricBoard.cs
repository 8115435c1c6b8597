using Npgsql;

namespace OdooOps.Metrics;

/// <summary>One metric over a span: samples counted, the latest value and when, the mean, the extremes.</summary>
internal sealed record MetricSummary(string Metric, string Title, string Unit, long Count, double? Last, DateTime? LastAt, double? Avg,
    double? Min, double? Max);

/// <summary>
/// Every metric of a branch over one span, for the Metrics page (charts and the table beside them), the summary API
/// and `odooops metrics show`: the metrics the project has, read together through <see cref="MetricSeriesStore"/> from
/// the source the query chose, each with its summary computed from the same buckets the chart draws.
/// </summary>
internal static class MetricBoard
{
    public sealed record Series(MetricSummary Summary, IReadOnlyList<MetricPoint> Points);

    /// <summary>The branch's metrics with at least one sample in the span, known ones first (<see cref="MetricCatalog.Ordered"/>).</summary>
    public static async Task<IReadOnlyList<Series>> ReadAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId,
        MetricSeriesQuery query, IReadOnlyCollection<string>? only = null)
    {
        var names = only ?? await MetricSeriesStore.NamesAsync(c, t, projectId);
        if (names.Count == 0) return [];
        var series = await MetricSeriesStore.ReadManyAsync(c, t, projectId, branchId, query, names);
        return [.. MetricCatalog.Ordered(series.Keys).Select(m => new Series(Summarise(m, series[m]), series[m]))];
    }

    /// <summary>The span's summary from its buckets: counts add up, the mean is weighted by them, the latest bucket's last value.</summary>
    public static MetricSummary Summarise(string metric, IReadOnlyList<MetricPoint> points)
    {
        var info = MetricCatalog.For(metric);
        if (points.Count == 0) return new(metric, info.Title, info.Unit, 0, null, null, null, null, null);
        var count = points.Sum(p => p.Count);
        var avg = count == 0 ? (double?)null : points.Sum(p => p.Avg * p.Count) / count;
        return new(metric, info.Title, info.Unit, count, points[^1].Last, points[^1].Ts, avg, points.Min(p => p.Min), points.Max(p => p.Max));
    }
}
