using Dapper;
using Npgsql;

namespace OdooOps.Metrics;

/// <summary>One bucket of a series: the samples' count, mean, extremes and the latest value.</summary>
internal sealed record MetricPoint(DateTime Ts, long Count, double Avg, double Min, double Max, double Last);

/// <summary>
/// Reads a series as the request's user (RLS decides what is visible), from the source the query chose. Each bucket is
/// one GROUP BY over date_bin; rollup rows merge exactly (sums of counts and sums, min of mins, max of maxes, the last
/// value of the latest row), so a series from rollups equals the same series computed from raw samples.
/// </summary>
internal static class MetricSeriesStore
{
    public sealed record BranchRef(Guid Id, string Name);

    /// <summary>The named live branch, or the production branch when no name is given; null when there is none.</summary>
    public static Task<BranchRef?> FindBranchAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string? name) =>
        c.QuerySingleOrDefaultAsync<BranchRef>("""
            select id, name from ops.branches
             where project_id = @projectId and archived_at is null
               and (name = @name or (@name is null and is_production))
            """, new { projectId, name }, t);

    public static async Task<IReadOnlyList<MetricPoint>> ReadAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId, MetricSeriesQuery q) =>
        (await ReadManyAsync(c, t, projectId, branchId, q, [q.Metric])).GetValueOrDefault(q.Metric) ?? [];

    sealed record Row(string Metric, DateTime Ts, long Count, double Avg, double Min, double Max, double Last);

    /// <summary>The series of several metrics over the query's span and step, in one statement; metrics with no bucket are left out.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>>> ReadManyAsync(NpgsqlConnection c, NpgsqlTransaction t,
        Guid projectId, Guid branchId, MetricSeriesQuery q, IReadOnlyCollection<string> metrics)
    {
        var sql = q.Resolution switch
        {
            MetricResolution.Raw => """
                select s.metric, date_bin(@Step, s.ts, timestamptz '1970-01-01 00:00:00+00') as ts, count(*) as count, avg(s.value) as avg,
                       min(s.value) as min, max(s.value) as max, (array_agg(s.value order by s.ts desc))[1] as last
                  from ops.metric_samples s
                 where s.project_id = @projectId and s.metric = any (@metrics) and s.branch_id = @branchId
                   and s.ts >= @From and s.ts < @To
                 group by 1, 2 order by 1, 2
                """,
            _ => $"""
                select r.metric, date_bin(@Step, r.bucket, timestamptz '1970-01-01 00:00:00+00') as ts, sum(r.count)::bigint as count,
                       sum(r.sum) / sum(r.count) as avg, min(r.min) as min, max(r.max) as max,
                       (array_agg(r.last order by r.last_ts desc))[1] as last
                  from {(q.Resolution == MetricResolution.Minute ? "ops.metric_rollups_minute" : "ops.metric_rollups_hour")} r
                 where r.project_id = @projectId and r.metric = any (@metrics) and r.branch_id = @branchId
                   and r.bucket >= @From and r.bucket < @To
                 group by 1, 2 order by 1, 2
                """,
        };
        var rows = await c.QueryAsync<Row>(sql, new { projectId, branchId, metrics = metrics.ToArray(), q.From, q.To, q.Step }, t);
        return rows.GroupBy(r => r.Metric).ToDictionary(g => g.Key,
            g => (IReadOnlyList<MetricPoint>)[.. g.Select(r => new MetricPoint(r.Ts, r.Count, r.Avg, r.Min, r.Max, r.Last))]);
    }

    /// <summary>
    /// Every metric the project has rollups of (within their retention), one index probe per name (a loose index scan
    /// of the hour rollups' key, which starts with project and metric), so a project's long history is never read.
    /// </summary>
    public static async Task<IReadOnlyList<string>> NamesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        [.. await c.QueryAsync<string>("""
            with recursive m(metric) as (
                select (select min(r.metric) from ops.metric_rollups_hour r where r.project_id = @projectId)
                union all
                select (select min(r.metric) from ops.metric_rollups_hour r where r.project_id = @projectId and r.metric > m.metric)
                  from m where m.metric is not null)
            select metric from m where metric is not null
            """, new { projectId }, t)];
}
