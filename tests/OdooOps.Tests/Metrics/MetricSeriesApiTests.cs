using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Database;
using OdooOps.Metrics;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// GET /api/ops/projects/{id}/metrics: the source follows the span (raw under 2 h, minute rollups under 3 days, hour
/// rollups beyond), each bucket equals the same bucket computed from the raw samples, and every bad parameter is a
/// 400 naming it.
/// </summary>
public sealed class MetricSeriesApiTests(MetricSeriesApiTests.World world) : IClassFixture<MetricSeriesApiTests.World>
{
    static DateTime Hour => World.Hour;

    /// <summary>One database and server for the class: six days of samples, folded once.</summary>
    public sealed class World(PostgresCluster cluster) : IAsyncLifetime
    {
        OpsDatabase _database = null!;
        public OdooOpsFactory Factory { get; private set; } = null!;
        public Guid Project { get; private set; }
        public Guid OtherOrgProject { get; private set; }
        public HttpClient Viewer { get; private set; } = null!;
        public static readonly DateTime Hour = DateTime.UtcNow.Date.AddHours(DateTime.UtcNow.Hour - 1); // a whole hour, an hour ago

        public async ValueTask InitializeAsync()
        {
            Factory = await OdooOpsFactory.CreateAsync(cluster, "series");
            _database = OpsDatabase.Create(await LoginRoles.EnsureAsync(Factory.Owner));
            var org = await Accounts.CreateOrgAsync(Factory.Owner, "series-org");
            Project = await Accounts.CreateProjectAsync(Factory.Owner, org, "series-a");
            OtherOrgProject = await Accounts.CreateProjectAsync(Factory.Owner, await Accounts.CreateOrgAsync(Factory.Owner, "series-other"), "series-b");
            var viewer = await Accounts.CreateUserAsync(Factory.Owner, "viewer@series.test", org, "viewer");
            Viewer = Factory.CreateClient().WithToken(await Accounts.CreateTokenAsync(Factory.Owner, viewer, "read"));

            // cpu_pct on main: one sample every 20 s over the last 6 days up to the end of Hour, value = minutes since
            // the epoch mod 97 (so buckets differ); one on staging; one on another project with the same metric.
            await using var conn = await Accounts.OpenAsync(Factory.Owner);
            await conn.ExecuteAsync("""
                select ops.ensure_metric_partitions(current_date - 7, 9);
                insert into ops.metric_samples (project_id, branch_id, metric, ts, value, received_at)
                select b.project_id, b.id, 'cpu_pct', t, (extract(epoch from t)::bigint / 60) % 97 + extract(second from t) / 100, now()
                  from ops.branches b, generate_series(@end - interval '6 days', @end - interval '20 seconds', interval '20 seconds') t
                 where b.project_id = @project and b.name = 'main';
                insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
                select b.project_id, b.id, 'cpu_pct', @end - interval '30 minutes', 12345 from ops.branches b
                 where (b.project_id = @project and b.name = 'staging') or (b.project_id = @other and b.name = 'main');
                """, new { project = Project, other = OtherOrgProject, end = Hour.AddHours(1) });
            await MetricRollupJob.FoldAsync(_database.Service);
        }

        public async ValueTask DisposeAsync()
        {
            Viewer.Dispose();
            await _database.DisposeAsync();
            await Factory.DisposeAsync();
        }
    }

    static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    async Task<JsonElement> SeriesAsync(string query)
    {
        var response = await world.Viewer.GetAsync($"/api/ops/projects/{world.Project}/metrics?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The buckets computed straight from raw samples of main, as the API must answer from any source.</summary>
    async Task<List<(DateTime Ts, long Count, double Avg, double Min, double Max, double Last)>> ExpectedAsync(DateTime from, DateTime to, int stepSeconds)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<(DateTime, long, double, double, double, double)>("""
            select date_bin(make_interval(secs => @stepSeconds), s.ts, timestamptz '1970-01-01Z'), count(*), avg(s.value), min(s.value), max(s.value),
                   (array_agg(s.value order by s.ts desc))[1]
              from ops.metric_samples s join ops.branches b on b.id = s.branch_id and b.name = 'main'
             where s.project_id = @project and s.metric = 'cpu_pct' and s.ts >= @from and s.ts < @to
             group by 1 order by 1
            """, new { project = world.Project, from, to, stepSeconds })];
    }

    static List<(DateTime, long, double, double, double, double)> Points(JsonElement series) =>
        [.. series.GetProperty("points").EnumerateArray().Select(p => (p.GetProperty("ts").GetDateTime().ToUniversalTime(), p.GetProperty("count").GetInt64(),
            Math.Round(p.GetProperty("avg").GetDouble(), 9), p.GetProperty("min").GetDouble(), p.GetProperty("max").GetDouble(), p.GetProperty("last").GetDouble()))];

    static List<(DateTime, long, double, double, double, double)> Rounded(IEnumerable<(DateTime Ts, long Count, double Avg, double Min, double Max, double Last)> rows) =>
        [.. rows.Select(r => (DateTime.SpecifyKind(r.Ts.ToUniversalTime(), DateTimeKind.Utc), r.Count, Math.Round(r.Avg, 9), r.Min, r.Max, r.Last))];

    [Theory]
    [InlineData(1, "raw", 60)]        // an hour: raw samples, step 60 s
    [InlineData(30, "minute", 300)]   // 30 hours: minute rollups, 5-minute buckets
    [InlineData(30, "hour", 3600)]    // 30 hours in hourly buckets: the hour rollups (the same numbers, 60 times fewer rows)
    [InlineData(24 * 5, "hour", 3600)] // 5 days: hour rollups
    public async Task Each_span_reads_its_resolution_and_equals_the_raw_aggregate(int hours, string resolution, int step)
    {
        var from = Hour.AddHours(1 - hours);
        var to = Hour.AddHours(1);
        var series = await SeriesAsync($"metric=cpu_pct&from={Iso(from)}&to={Iso(to)}&step={step}s");

        Assert.Equal((resolution, step, "main"), (series.GetProperty("resolution").GetString(), series.GetProperty("step_seconds").GetInt32(),
            series.GetProperty("branch").GetString()));
        var expected = Rounded(await ExpectedAsync(from, to, step));
        Assert.Equal(hours * 3600 / step, expected.Count);
        Assert.Equal(expected, Points(series));
    }

    [Fact]
    public async Task Defaults_are_the_last_hour_of_the_production_branch_in_round_steps_and_bounds_widen_to_whole_steps()
    {
        var series = await SeriesAsync("metric=cpu_pct");
        Assert.Equal(("raw", 15, "main"), (series.GetProperty("resolution").GetString(), series.GetProperty("step_seconds").GetInt32(), series.GetProperty("branch").GetString()));

        var odd = await SeriesAsync($"metric=cpu_pct&from={Iso(Hour.AddMinutes(7).AddSeconds(13))}&to={Iso(Hour.AddMinutes(50).AddSeconds(1))}&step=10m");
        Assert.Equal((Hour, Hour.AddHours(1)), (odd.GetProperty("from").GetDateTime().ToUniversalTime(), odd.GetProperty("to").GetDateTime().ToUniversalTime()));
        Assert.Equal(6, odd.GetProperty("points").GetArrayLength());

        var staging = await SeriesAsync($"metric=cpu_pct&branch=staging&from={Iso(Hour)}&to={Iso(Hour.AddHours(1))}");
        Assert.Equal(12345, Assert.Single(staging.GetProperty("points").EnumerateArray()).GetProperty("max").GetDouble());
    }

    [Theory]
    [InlineData("", "metric")]
    [InlineData("metric=CPU", "metric")]
    [InlineData("metric=cpu_pct&from=yesterday", "from")]
    [InlineData("metric=cpu_pct&to=2026-01-01T00:00:00", "to")] // no offset
    [InlineData("metric=cpu_pct&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("metric=cpu_pct&step=fast", "step")]
    [InlineData("metric=cpu_pct&step=0", "step")]
    [InlineData("metric=cpu_pct&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=30s", "step")] // minute rollups: whole minutes
    [InlineData("metric=cpu_pct&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&step=1h", "step")]  // > 10,000 points
    [InlineData("metric=cpu_pct&branch=nope", "branch")]
    public async Task Bad_parameters_are_400_naming_the_field(string query, string field)
    {
        var response = await world.Viewer.GetAsync($"/api/ops/projects/{world.Project}/metrics?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal([field], problem.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task Another_orgs_project_is_not_found_and_anonymous_callers_are_refused()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await world.Viewer.GetAsync($"/api/ops/projects/{world.OtherOrgProject}/metrics?metric=cpu_pct")).StatusCode);
        using var anonymous = world.Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/ops/projects/{world.Project}/metrics?metric=cpu_pct")).StatusCode);
    }
}
