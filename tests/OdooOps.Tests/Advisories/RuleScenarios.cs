using OdooOps.Advisories;

namespace OdooOps.Tests.Advisories;

/// <summary>
/// How to make each rule fire and how to clear it again, with what its advisory must say. Project rules work on a
/// fresh project of org A (main = production, staging, feature-x) through SQL with @project, @main, @staging and
/// @feature; server rules on the system project through what the fake probe measures.
/// </summary>
/// <param name="Subject">main, staging or feature-x (a branch advisory), project, or system.</param>
public sealed record RuleScenario(
    string Rule, string Subject, string Severity, string DetailContains, double Measured,
    string? RaiseSql = null, string? ClearSql = null, ServerHealth? RaiseHealth = null, ServerHealth? ClearHealth = null)
{
    public bool IsServerRule => RaiseHealth is not null;

    public override string ToString() => Rule;

    /// <summary>This server in good health: enough requests, no errors, fast, a quiet pool.</summary>
    public static readonly ServerHealth Healthy = new(200, 5, 0, 100, "odooops-app", 5, 50, 10, []);

    static string Samples(string metric, double value, string branch = "@main", int fromMinutesAgo = 5, int toMinutesAgo = 1) => $"""
        insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
        select @project, {branch}, '{metric}', now() - make_interval(mins => i), {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}
          from generate_series({toMinutesAgo}, {fromMinutesAgo}) i
        """;

    static string Builds(string branch, params (string Status, int MinutesAgo)[] builds) =>
        "insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, queued_at, started_at, finished_at, created_at) values "
        + string.Join(", ", builds.Select((b, i) =>
        {
            var at = $"now() - interval '{b.MinutesAgo} minutes'";
            return $"(@project, {branch}, '{b.Status}', 'push', '{i + 1:x4}abc', {at}, {at}, {at}, {at})";
        }));

    /// <summary>A successful build of <paramref name="branch"/> and its instance, as the runner side leaves them.</summary>
    public static string Instance(string branch, string stage, string state, string desired = "running", string? reason = null, int restarts = 0) => $"""
        insert into ops.builds (project_id, branch_id, status, trigger, commit_sha) values (@project, {branch}, 'success', 'push', 'abc1234def');
        insert into ops.instances (project_id, branch_id, build_id, stage, state, reason, desired, restarts, database_name, is_current)
        select @project, {branch}, id, '{stage}', '{state}', {(reason is null ? "null" : $"'{reason}'")}, '{desired}', {restarts}, 'odoo_' || substr(md5(random()::text), 1, 8), true
          from ops.builds where branch_id = {branch} order by created_at desc limit 1
        """;

    public static readonly IReadOnlyList<RuleScenario> All =
    [
        new("cpu_high", "main", "critical", "CPU averaged 93.5% over the last 15 minutes", 93.5,
            RaiseSql: Samples("cpu_pct", 93.5),
            ClearSql: "delete from ops.metric_samples where project_id = @project; " + Samples("cpu_pct", 20)),
        new("memory_high", "main", "warning", "Memory averaged 96.5% over the last 15 minutes", 96.5,
            RaiseSql: Samples("mem_pct", 96.5),
            ClearSql: "delete from ops.metric_samples where project_id = @project; " + Samples("mem_pct", 40)),
        new("metrics_missing", "main", "warning", "The last sample arrived 90 minutes ago", 90,
            RaiseSql: Samples("cpu_pct", 10, fromMinutesAgo: 120, toMinutesAgo: 90),
            ClearSql: Samples("cpu_pct", 10, fromMinutesAgo: 1, toMinutesAgo: 1)),
        new("instance_failed", "main", "critical", "(build ", 5,
            RaiseSql: Instance("@main", "production", "failed", reason: "crashed 5 times in 10 minutes", restarts: 5),
            ClearSql: "update ops.instances set state = 'running', reason = null where project_id = @project"),
        new("production_build_failed", "main", "critical", "2 production build(s) in a row did not succeed", 2,
            RaiseSql: Builds("@main", ("success", 180), ("failed", 60), ("timed_out", 30)),
            ClearSql: Builds("@main", ("success", 1))),
        new("repeated_failures", "staging", "warning", "3 of the last 5 builds of branch staging failed", 3,
            RaiseSql: Builds("@staging", ("success", 300), ("success", 240), ("failed", 180), ("failed", 120), ("timed_out", 60)),
            ClearSql: Builds("@staging", ("success", 3), ("success", 2), ("success", 1))),
        new("build_queue_stuck", "project", "warning", "the oldest has waited 45 minutes", 45,
            RaiseSql: "insert into ops.builds (project_id, branch_id, commit_sha, queued_at) values (@project, @feature, 'abc123', now() - interval '45 minutes')",
            ClearSql: "update ops.builds set status = 'cancelled', finished_at = now() where project_id = @project and status = 'queued'"),
        new("no_production_branch", "project", "warning", "None of this project's 3 branch(es) is production", 3,
            RaiseSql: "update ops.branches set stage = 'staging', is_production = false where id = @main",
            ClearSql: "update ops.branches set stage = 'production', is_production = true where id = @main"),
        new("runtime_unsupported", "project", "warning", "This project runs Odoo 16.0 (major 16); supported are the three newest majors: 17.0, 18.0, 19.0", 16,
            RaiseSql: "update ops.projects set runtime_version = '16.0' where id = @project",
            ClearSql: "update ops.projects set runtime_version = '18.0' where id = @project"),
        new("error_rate_high", "system", "critical", "3.50% of 200 requests in the last 5 minutes answered with a 5xx (threshold 1%)", 3.5,
            RaiseHealth: Healthy with { ErrorRatePct = 3.5 }, ClearHealth: Healthy),
        new("request_p95_high", "system", "warning", "took 900 ms (threshold 500 ms)", 900,
            RaiseHealth: Healthy with { P95Ms = 900 }, ClearHealth: Healthy),
        new("db_pool_saturated", "system", "warning", "Pool odooops-app uses 45 of 50 connections (90.0%; threshold 80%)", 90,
            RaiseHealth: Healthy with { PoolUsed = 45, PoolUsagePct = 90 }, ClearHealth: Healthy),
    ];

    public static TheoryData<string> Names => [.. All.Select(s => s.Rule)];

    public static RuleScenario Named(string rule) => All.Single(s => s.Rule == rule);

    public static Guid SystemProject => AdvisoryScanner.SystemProjectId;
}
