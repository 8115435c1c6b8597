using System.Globalization;
using System.Text;

namespace OdooOps.Observability;

/// <summary>
/// Renders the metrics in the Prometheus text exposition format 0.0.4: HELP and TYPE lines, then one sample per
/// line; histograms as cumulative _bucket{le} series with _sum and _count.
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(HttpMetrics http, DbPoolMetrics pools)
    {
        var sb = new StringBuilder(4096);
        var series = http.Collect();

        Header(sb, "odooops_http_request_duration_seconds", "histogram",
            "Time from a request entering OdooOps to its response, by route pattern (or \"unmatched\"), method and status class.");
        foreach (var s in series)
        {
            var labels = $"route=\"{Escape(s.Key.Route)}\",method=\"{s.Key.Method}\",status_class=\"{s.Key.StatusClass}\"";
            for (var i = 0; i < HttpMetrics.BucketBounds.Length; i++)
                sb.Append("odooops_http_request_duration_seconds_bucket{").Append(labels).Append(",le=\"")
                  .Append(Number(HttpMetrics.BucketBounds[i])).Append("\"} ").Append(s.CumulativeCounts[i]).Append('\n');
            sb.Append("odooops_http_request_duration_seconds_bucket{").Append(labels).Append(",le=\"+Inf\"} ").Append(s.Count).Append('\n');
            sb.Append("odooops_http_request_duration_seconds_sum{").Append(labels).Append("} ").Append(Number(s.SumSeconds)).Append('\n');
            sb.Append("odooops_http_request_duration_seconds_count{").Append(labels).Append("} ").Append(s.Count).Append('\n');
        }

        Header(sb, "odooops_http_requests_total", "counter", "Requests answered, by route pattern, method and status class.");
        foreach (var s in series)
            sb.Append("odooops_http_requests_total{route=\"").Append(Escape(s.Key.Route)).Append("\",method=\"").Append(s.Key.Method)
              .Append("\",status_class=\"").Append(s.Key.StatusClass).Append("\"} ").Append(s.Count).Append('\n');

        Header(sb, "odooops_http_errors_total", "counter", "Requests answered with a 5xx status, by route pattern and method.");
        foreach (var s in series.Where(s => s.Key.StatusClass == "5xx"))
            sb.Append("odooops_http_errors_total{route=\"").Append(Escape(s.Key.Route)).Append("\",method=\"").Append(s.Key.Method)
              .Append("\"} ").Append(s.Count).Append('\n');

        var (connections, max) = pools.Collect();
        Header(sb, "odooops_db_pool_connections", "gauge", "Open database connections per pool, idle or used (Npgsql db.client.connection.count).");
        foreach (var c in connections)
            sb.Append("odooops_db_pool_connections{pool=\"").Append(Escape(c.Pool)).Append("\",state=\"").Append(c.State)
              .Append("\"} ").Append(c.Value).Append('\n');
        Header(sb, "odooops_db_pool_max_connections", "gauge", "The most connections each pool may open (Npgsql db.client.connection.max).");
        foreach (var m in max)
            sb.Append("odooops_db_pool_max_connections{pool=\"").Append(Escape(m.Pool)).Append("\"} ").Append(m.Value).Append('\n');
        return sb.ToString();
    }

    static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", @"\\").Replace("\n", @"\n")).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Label values escape backslash, double quote and line feed (exposition format 0.0.4).</summary>
    internal static string Escape(string value) =>
        value.AsSpan().IndexOfAny('\\', '"', '\n') < 0 ? value : value.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");
}
