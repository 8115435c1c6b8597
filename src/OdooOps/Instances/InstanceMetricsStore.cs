using Dapper;
using Npgsql;

namespace OdooOps.Instances;

/// <summary>
/// The last hour of a project's branches' CPU and memory, per minute, from the minute rollups (the metric names the
/// ingest and the cpu_high / memory_high advisories use), for the console's sparklines. Read as the user (RLS).
/// </summary>
internal static class InstanceMetricsStore
{
    public const string Cpu = "cpu_pct", Memory = "mem_mb";

    public sealed record Series(IReadOnlyList<double> Cpu, IReadOnlyList<double> Memory)
    {
        public static readonly Series Empty = new([], []);
    }

    public static async Task<IReadOnlyDictionary<Guid, Series>> LastHourAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, IReadOnlyCollection<Guid> branchIds)
    {
        if (branchIds.Count == 0) return new Dictionary<Guid, Series>();
        var rows = await c.QueryAsync<(Guid BranchId, string Metric, double Avg)>("""
            select branch_id, metric, sum / nullif(count, 0) as avg
              from ops.metric_rollups_minute
             where project_id = @projectId and branch_id = any (@branches) and metric = any (@metrics)
               and bucket >= now() - interval '1 hour'
             order by bucket
            """, new { projectId, branches = branchIds.ToArray(), metrics = new[] { Cpu, Memory } }, t);
        return rows.GroupBy(r => r.BranchId).ToDictionary(g => g.Key, g => new Series(
            [.. g.Where(r => r.Metric == Cpu).Select(r => r.Avg)], [.. g.Where(r => r.Metric == Memory).Select(r => r.Avg)]));
    }
}
