using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Npgsql;
using OdooOps.Advisories;
using OdooOps.Database;
using OdooOps.Observability;

namespace OdooOps.Tests.Advisories;

/// <summary>The in-process measurements behind the server rules, and the OPS_ADVISORY_* settings.</summary>
public sealed class ServerHealthProbeTests : IAsyncDisposable
{
    readonly HttpMetrics _http = new();
    readonly DbPoolMetrics _pools = new();
    // Never opened: the probe only reads the pools' names.
    readonly OpsDatabase _database = new(NpgsqlDataSource.Create("Host=127.0.0.1;Application Name=probe-test-app"),
        NpgsqlDataSource.Create("Host=127.0.0.1;Application Name=probe-test-service"));

    InProcessHealthProbe Probe(int minRequests = 20) => new(_http, _pools, _database, Settings(new()
    {
        ["OPS_ADVISORY_SERVER_MIN_REQUESTS"] = minRequests.ToString(),
    }));

    static AdvisorySettings Settings(Dictionary<string, string?> values) =>
        AdvisorySettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    void Record(string route, int status, double seconds, int times = 1)
    {
        for (var i = 0; i < times; i++) _http.Record(route, "GET", status, (long)(seconds * Stopwatch.Frequency));
    }

    [Fact]
    public void Too_few_requests_are_not_judged_and_the_window_grows_until_there_are_enough()
    {
        var probe = Probe();
        Record("/api/ops/projects", 500, 0.01, 5);
        var early = probe.Measure();
        Assert.Equal((5L, (double?)null, (double?)null), (early.Requests, early.ErrorRatePct, early.P95Ms));

        Record("/api/ops/projects", 200, 0.01, 15);
        var judged = probe.Measure();
        Assert.Equal(20, judged.Requests);
        Assert.Equal(25, judged.ErrorRatePct); // 5 of 20, the early ones included
        Assert.Empty(judged.Unavailable);

        Record("/api/ops/projects", 200, 0.01, 20);
        Assert.Equal(0, probe.Measure().ErrorRatePct); // a new window: the old errors are behind it
    }

    [Fact]
    public void Probes_and_scrapes_do_not_count()
    {
        var probe = Probe(minRequests: 1);
        Record("/healthz", 500, 3, 50);
        Record("/metrics", 500, 3, 50);
        Record("/readyz", 500, 3, 50);
        Assert.Null(probe.Measure().ErrorRatePct);
    }

    [Fact]
    public void The_p95_is_interpolated_in_its_bucket_like_histogram_quantile()
    {
        var probe = Probe(minRequests: 1);
        Record("/api/ops/builds", 200, 0.02, 90);  // (0.01, 0.025]
        Record("/api/ops/builds", 200, 0.7, 10);   // (0.5, 1]
        var health = probe.Measure();
        Assert.InRange(health.P95Ms!.Value, 749, 751); // half-way through the ten slow ones: 500 + 500 × 5/10
        Assert.Equal(10, InProcessHealthProbe.Quantile([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4], 0.95)); // all past 10 s: at least 10 s
    }

    [Fact]
    public void Pool_use_is_judged_on_this_servers_own_pools_only()
    {
        using var stranger = NpgsqlDataSource.Create("Host=127.0.0.1;Application Name=probe-test-stranger;Maximum Pool Size=1");
        var health = Probe().Measure();
        Assert.Contains(health.Pool, new[] { "probe-test-app", "probe-test-service" });
        Assert.Equal((0L, 100L, 0d), (health.PoolUsed, health.PoolMax, health.PoolUsagePct)); // nothing open yet, Npgsql's default size
        Assert.Empty(health.Unavailable);
    }

    [Fact]
    public void Settings_send_only_configured_thresholds_under_their_json_names()
    {
        var settings = Settings(new() { ["OPS_ADVISORY_CPU_HIGH_PCT"] = "70.5", ["OPS_ADVISORY_SUPPORTED_RUNTIMES"] = "16.0, 17.0,18.0 ,19.0" });
        Assert.Equal("""{"cpu_high_pct":70.5,"supported_runtimes":["16.0","17.0","18.0","19.0"]}""", settings.Thresholds().ToJsonString());
        Assert.Equal(AdvisorySettings.DefaultServerMinRequests, settings.ServerMinRequests);
    }

    [Theory]
    [InlineData("OPS_ADVISORY_CPU_HIGH_PCT", "lots")]
    [InlineData("OPS_ADVISORY_P95_MS", "-5")]
    [InlineData("OPS_ADVISORY_SUPPORTED_RUNTIMES", "17,eighteen")]
    public void A_bad_setting_stops_the_server_naming_the_key(string key, string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Settings(new() { [key] = value }));
        Assert.StartsWith(key, e.Message);
    }

    public async ValueTask DisposeAsync()
    {
        _pools.Dispose();
        await _database.DisposeAsync();
    }
}
