using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Metrics;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// A database of its own (the rollup watermark is one per database) with a project whose branches are main
/// (production), staging and feature-x; samples go in through the ingest function, as the endpoint sends them.
/// </summary>
public sealed class RollupDatabase : IAsyncDisposable
{
    public required NpgsqlConnectionStringBuilder Owner { get; init; }
    public required OpsDatabase Database { get; init; }
    public required Guid ProjectId { get; init; }
    public required Guid OrgId { get; init; }

    public static async Task<RollupDatabase> CreateAsync(PostgresCluster cluster)
    {
        var owner = await cluster.CreateDatabaseAsync("rollup");
        var orgId = await Accounts.CreateOrgAsync(owner, "rollup-org");
        return new RollupDatabase
        {
            Owner = owner, OrgId = orgId, ProjectId = await Accounts.CreateProjectAsync(owner, orgId, "rollup-a"),
            Database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner)),
        };
    }

    public sealed record Sample(string Metric, DateTime Ts, double Value, string? Branch = null);

    public async Task<int> IngestAsync(params Sample[] samples)
    {
        await using var conn = await Database.Service.OpenConnectionAsync();
        return await IngestAsync(conn, null, samples);
    }

    public async Task<int> IngestAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, params Sample[] samples) =>
        await conn.ExecuteScalarAsync<int>("""
            select inserted from ops.ingest_metric_batch(@ProjectId, @metrics, @ts, @values, @branches, null, null, null)
            """, new
        {
            ProjectId, metrics = samples.Select(s => s.Metric).ToArray(), ts = samples.Select(s => s.Ts).ToArray(),
            values = samples.Select(s => s.Value).ToArray(), branches = samples.Select(s => s.Branch).ToArray(),
        }, tx);

    public Task<MetricRollupJob.FoldResult> FoldAsync() => MetricRollupJob.FoldAsync(Database.Service);

    public sealed record Bucket(string Metric, string Branch, DateTime Start, long Count, double Sum, double Min, double Max, double Last, DateTime LastTs);

    /// <summary>One rollup table, ordered; the same columns as <see cref="DirectAsync"/>.</summary>
    public async Task<List<Bucket>> RollupsAsync(string resolution)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return [.. await conn.QueryAsync<Bucket>($"""
            select r.metric, b.name as branch, r.bucket as start, r.count, r.sum, r.min, r.max, r.last, r.last_ts as lastts
              from ops.metric_rollups_{resolution} r join ops.branches b on b.id = r.branch_id
             where r.project_id = @ProjectId order by 1, 2, 3
            """, new { ProjectId })];
    }

    /// <summary>The same aggregates computed straight from the raw samples, as the rollups must equal.</summary>
    public async Task<List<Bucket>> DirectAsync(string resolution)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return [.. await conn.QueryAsync<Bucket>($"""
            select s.metric, b.name as branch, date_trunc('{resolution}', s.ts, 'UTC') as start, count(*) as count, sum(s.value) as sum,
                   min(s.value) as min, max(s.value) as max, (array_agg(s.value order by s.ts desc))[1] as last, max(s.ts) as lastts
              from ops.metric_samples s join ops.branches b on b.id = s.branch_id
             where s.project_id = @ProjectId group by 1, 2, 3 order by 1, 2, 3
            """, new { ProjectId })];
    }

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}
