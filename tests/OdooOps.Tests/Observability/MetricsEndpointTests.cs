using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Observability;

/// <summary>GET /metrics after real requests: Prometheus text format, histograms per route pattern, pool gauges.</summary>
public sealed partial class MetricsEndpointTests(PostgresCluster cluster)
{
    static long Sample(string metrics, string series)
    {
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
                   ?? throw new Xunit.Sdk.XunitException($"no sample {series} in:\n{metrics}");
        return long.Parse(line[(series.Length + 1)..]);
    }

    [Fact]
    public async Task Counts_requests_per_route_pattern_with_histogram_buckets_and_reports_the_pools()
    {
        await using var server = await ObservedServer.StartAsync(cluster, "metrics");
        var org = await Accounts.CreateOrgAsync(server.Owner, "acme");
        var token = await Accounts.CreateTokenAsync(server.Owner, await Accounts.CreateUserAsync(server.Owner, "m@acme.test", org, "owner"));
        var projectId = await Accounts.CreateProjectAsync(server.Owner, org, "erp");
        var client = server.Client.WithToken(token);

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/ops/projects/{projectId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/ops/projects/{projectId}/branches")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/no/such/page")).StatusCode);

        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var metrics = await response.Content.ReadAsStringAsync();

        Assert.Contains("# TYPE odooops_http_request_duration_seconds histogram\n", metrics);
        Assert.Contains("# TYPE odooops_http_requests_total counter\n", metrics);
        Assert.Contains("# TYPE odooops_http_errors_total counter\n", metrics);
        const string health = "route=\"/healthz\",method=\"GET\",status_class=\"2xx\"";
        Assert.Equal(3, Sample(metrics, $"odooops_http_request_duration_seconds_count{{{health}}}"));
        Assert.Equal(3, Sample(metrics, $"odooops_http_request_duration_seconds_bucket{{{health},le=\"+Inf\"}}"));
        Assert.Equal(3, Sample(metrics, $"odooops_http_requests_total{{{health}}}"));
        // Buckets are cumulative: non-decreasing in le, ending at the count.
        var buckets = BucketLine().Matches(metrics).Where(m => m.Groups["labels"].Value == health).Select(m => long.Parse(m.Groups["n"].Value)).ToList();
        Assert.Equal(12, buckets.Count); // 11 bounds + +Inf
        Assert.Equal(buckets.Order().ToList(), buckets);

        // Route patterns, not paths: ids never become labels.
        Assert.Equal(1, Sample(metrics, "odooops_http_requests_total{route=\"/api/ops/projects/{projectId:guid}\",method=\"GET\",status_class=\"2xx\"}"));
        Assert.Equal(1, Sample(metrics, "odooops_http_requests_total{route=\"/api/ops/projects/{projectId:guid}/branches/\",method=\"GET\",status_class=\"2xx\"}"));
        Assert.Equal(1, Sample(metrics, "odooops_http_requests_total{route=\"unmatched\",method=\"GET\",status_class=\"4xx\"}"));
        Assert.DoesNotContain(projectId.ToString(), metrics);

        // The request pool (odooops-app) served those requests and keeps its connections; the token look-ups used
        // the service pool. Both have their gauges and their maximum (the connection string's Max Pool Size).
        Assert.Contains("# TYPE odooops_db_pool_connections gauge\n", metrics);
        Assert.InRange(Sample(metrics, "odooops_db_pool_connections{pool=\"odooops-app-metrics\",state=\"idle\"}"), 1, 10);
        Assert.Equal(0, Sample(metrics, "odooops_db_pool_connections{pool=\"odooops-app-metrics\",state=\"used\"}"));
        Assert.InRange(Sample(metrics, "odooops_db_pool_connections{pool=\"odooops-service-metrics\",state=\"idle\"}"), 1, 10);
        Assert.Equal(server.Owner.MaxPoolSize, Sample(metrics, "odooops_db_pool_max_connections{pool=\"odooops-app-metrics\"}"));
        Assert.DoesNotContain("Host=", metrics); // pools are labelled by application name, not by connection string
    }

    [GeneratedRegex("^odooops_http_request_duration_seconds_bucket\\{(?<labels>.*),le=\"[^\"]+\"\\} (?<n>\\d+)$", RegexOptions.Multiline)]
    private static partial Regex BucketLine();
}
