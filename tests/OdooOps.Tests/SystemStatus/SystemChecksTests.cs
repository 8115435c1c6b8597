using System.Diagnostics;
using OdooOps.Observability;
using OdooOps.SystemStatus;

namespace OdooOps.Tests.SystemStatus;

/// <summary>The specification's alerts as checks: each warns just past its threshold, not at it, and says "unknown" with nothing measured.</summary>
public sealed class SystemChecksTests
{
    static readonly SystemReport.DatabaseState Database = new(1 << 20, 100, [new("odooops-app", 4, 1)], [new("odooops-app", 2, 2, 10)]);
    static readonly SystemReport.Queue Queue = new(0, 0, null, null, null, 0);
    static readonly SystemReport.RunnerCounts Runners = new(1, 1, 0, 2);

    static SystemReport.Check Check(HttpMetrics http, string name, SystemReport.DatabaseState? db = null, SystemReport.Queue? queue = null,
        SystemReport.RunnerCounts? runners = null, IReadOnlyList<SystemReport.Job>? jobs = null) =>
        SystemChecks.Evaluate(http.Collect(), db ?? Database, queue ?? Queue, runners ?? Runners, jobs ?? []).Single(c => c.Name == name);

    static void Requests(HttpMetrics http, string route, int count, int status, double ms)
    {
        for (var i = 0; i < count; i++) http.Record(route, "POST", status, (long)(ms / 1000 * Stopwatch.Frequency));
    }

    [Theory]
    [InlineData(1, "ok")]      // 1 of 100: 1 %, at the threshold
    [InlineData(2, "warning")] // 2 %
    public void Function_errors_warn_above_one_percent(int errors, string status)
    {
        var http = new HttpMetrics();
        Requests(http, "/functions/v1/ops-metrics-ingest", 100 - errors, 200, 3);
        Requests(http, "/functions/v1/ops-metrics-ingest", errors, 503, 3);
        Requests(http, "/api/ops/projects", 50, 500, 3); // another surface's errors do not count here
        Assert.Equal(status, Check(http, "Function errors").Status);
        Assert.Equal(SystemReport.Unknown, Check(new HttpMetrics(), "Function errors").Status);
    }

    [Theory]
    [InlineData(95, "ok", "p95 ≤ 10 ms")]
    [InlineData(94, "warning", "p95 ≤ 1000 ms")]
    public void Api_time_warns_when_the_95th_percentile_passes_500_ms(int fast, string status, string value)
    {
        var http = new HttpMetrics();
        Requests(http, "/api/ops/projects", fast, 200, 8);
        Requests(http, "/api/ops/projects/{projectId:guid}", 100 - fast, 200, 800);
        var check = Check(http, "API response time");
        Assert.Equal(status, check.Status);
        Assert.StartsWith(value, check.Value);
    }

    [Fact]
    public void Pools_warn_above_80_percent_and_the_console_counts_server_errors()
    {
        var http = new HttpMetrics();
        Assert.Equal("ok", Check(http, "Connection pool saturation", Database with { Pools = [new("odooops-app", 8, 0, 10)] }).Status);
        Assert.Equal("warning", Check(http, "Connection pool saturation", Database with { Pools = [new("odooops-app", 9, 1, 10)] }).Status);
        Assert.Equal("unknown", Check(http, "Connection pool saturation", Database with { Pools = [] }).Status);

        Requests(http, "/app/projects/{Slug}", 99, 200, 5);
        Requests(http, "/login", 1, 500, 5);
        Assert.Equal("ok", Check(http, "Console availability").Status);
        Requests(http, "/app/metrics", 1, 500, 5);
        Assert.Equal("warning", Check(http, "Console availability").Status);
    }

    [Fact]
    public void The_queue_runners_and_jobs_warn_on_what_needs_a_person()
    {
        var http = new HttpMetrics();
        Assert.Equal("warning", Check(http, "Build queue", queue: Queue with { Queued = 4, StuckProjects = 1 }).Status);
        Assert.Equal("warning", Check(http, "Runners online", queue: Queue with { Queued = 1 }, runners: new(2, 0, 0, 0)).Status);
        Assert.Equal("unknown", Check(http, "Runners online", runners: new(0, 0, 0, 0)).Status);
        var failed = new OdooOps.Scheduler.JobRunStore.JobRun(1, "retention", "n", null, DateTime.UtcNow, DateTime.UtcNow, "failed", "disk full");
        var jobs = Check(http, "Scheduled jobs", jobs: [new("retention", "30 3 * * *", null, [failed], 1)]);
        Assert.Equal(("warning", "last run failed: retention"), (jobs.Status, jobs.Detail));
    }
}
