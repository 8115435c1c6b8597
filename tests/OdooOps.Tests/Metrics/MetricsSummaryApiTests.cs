using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Metrics;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// The named ranges (range=1h|24h|7d|30d, one rule for the API and the Metrics page) and GET …/metrics/summary (every
/// metric of a branch over a span, what the page's table and `odooops metrics show` print): a range reads the same
/// source as the equivalent from–to, the summary equals the raw samples' aggregate, and bad input is a 400 naming the field.
/// </summary>
public sealed class MetricsSummaryApiTests(MetricSeriesApiTests.World world) : IClassFixture<MetricSeriesApiTests.World>
{
    async Task<JsonElement> GetAsync(string path)
    {
        var response = await world.Viewer.GetAsync($"/api/ops/projects/{world.Project}/{path}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Theory]
    [InlineData("1h", "raw", 15)]
    [InlineData("24h", "minute", 300)]
    [InlineData("7d", "hour", 3600)]
    [InlineData("30d", "hour", 10800)]
    public async Task Each_range_picks_its_resolution_and_ends_now(string range, string resolution, int step)
    {
        var series = await GetAsync($"metrics?metric=cpu_pct&range={range}");
        Assert.Equal((resolution, step), (series.GetProperty("resolution").GetString(), series.GetProperty("step_seconds").GetInt32()));
        var to = series.GetProperty("to").GetDateTime().ToUniversalTime();
        Assert.InRange(to, DateTime.UtcNow.AddSeconds(-5), DateTime.UtcNow.AddSeconds(step + 5));
        var span = to - series.GetProperty("from").GetDateTime().ToUniversalTime();
        Assert.InRange(span, MetricSeriesQuery.Ranges[range], MetricSeriesQuery.Ranges[range] + TimeSpan.FromSeconds(2 * step));
    }

    [Fact]
    public async Task The_summary_of_a_span_equals_the_raw_samples_aggregate()
    {
        var from = MetricSeriesApiTests.World.Hour.AddHours(-20);
        var to = MetricSeriesApiTests.World.Hour.AddHours(1);
        var summary = await GetAsync($"metrics/summary?from={from:yyyy-MM-dd'T'HH:mm:ss'Z'}&to={to:yyyy-MM-dd'T'HH:mm:ss'Z'}");
        Assert.Equal(("main", "minute"), (summary.GetProperty("branch").GetString(), summary.GetProperty("resolution").GetString()));
        var cpu = Assert.Single(summary.GetProperty("metrics").EnumerateArray());
        Assert.Equal(("cpu_pct", "CPU", "%"), (cpu.GetProperty("metric").GetString(), cpu.GetProperty("title").GetString(), cpu.GetProperty("unit").GetString()));

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var raw = await conn.QuerySingleAsync<(long Count, double Avg, double Min, double Max, double Last)>("""
            select count(*), avg(s.value), min(s.value), max(s.value), (array_agg(s.value order by s.ts desc))[1]
              from ops.metric_samples s join ops.branches b on b.id = s.branch_id and b.name = 'main'
             where s.project_id = @project and s.metric = 'cpu_pct' and s.ts >= @from and s.ts < @to
            """, new { project = world.Project, from, to });
        Assert.Equal(raw.Count, cpu.GetProperty("count").GetInt64());
        Assert.Equal(raw.Avg, cpu.GetProperty("avg").GetDouble(), 9);
        Assert.Equal((raw.Min, raw.Max, raw.Last), (cpu.GetProperty("min").GetDouble(), cpu.GetProperty("max").GetDouble(), cpu.GetProperty("last").GetDouble()));

        var staging = await GetAsync("metrics/summary?branch=staging&range=24h");
        Assert.Equal(12345, Assert.Single(staging.GetProperty("metrics").EnumerateArray()).GetProperty("max").GetDouble());
    }

    [Theory]
    [InlineData("metrics?metric=cpu_pct&range=2h", "range")]
    [InlineData("metrics?metric=cpu_pct&range=24h&from=2026-01-01T00:00:00Z", "range")]
    [InlineData("metrics/summary?range=1y", "range")]
    [InlineData("metrics/summary?from=2026-01-01T00:00:00", "from")]
    [InlineData("metrics/summary?branch=nope", "branch")]
    public async Task Bad_parameters_are_400_naming_the_field(string path, string field)
    {
        var response = await world.Viewer.GetAsync($"/api/ops/projects/{world.Project}/{path}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal([field], problem.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task Another_orgs_project_is_not_found()
    {
        var response = await world.Viewer.GetAsync($"/api/ops/projects/{world.OtherOrgProject}/metrics/summary");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("12345", await response.Content.ReadAsStringAsync());
    }
}
