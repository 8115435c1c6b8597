using Dapper;
using Npgsql;
using OdooOps.Backups;
using OdooOps.Builds;
using OdooOps.Deployments;
using OdooOps.Instances;
using OdooOps.Metrics;

namespace OdooOps.Projects;

/// <summary>
/// A project at a glance, as its overview page (<c>/app/projects/{slug}</c>), <c>GET /api/ops/projects/{id}/overview</c>
/// and `odooops projects show` give it: production's instance (state, address), the last deployment, the last builds
/// of each stage, open advisories by severity, production's CPU, memory and requests over 24 hours, and which of the
/// quick actions the caller may take (the rules stay the use cases'; this only decides what to offer).
/// </summary>
internal sealed record ProjectOverview(
    ProjectSummary Project,
    string? Role,
    Instance? ProductionInstance,
    Deployment? LastDeployment,
    IReadOnlyList<Build> LastBuilds,
    ProjectOverview.AdvisoryCounts OpenAdvisories,
    IReadOnlyList<ProjectOverview.Trend> Metrics,
    bool CanBuildProduction,
    bool CanBackUpProduction)
{
    public const int BuildsPerStage = 3;

    public sealed record AdvisoryCounts(int Critical, int Warning, int Info);

    /// <summary>One metric of production over 24 hours, in hourly means (a sparkline), and its latest value.</summary>
    public sealed record Trend(string Metric, string Title, string Unit, IReadOnlyList<double> Values, double? Last);

    /// <summary>Everything but the instance's address, read as the user (RLS) in the caller's transaction.</summary>
    public static async Task<ProjectOverview> LoadAsync(NpgsqlConnection c, NpgsqlTransaction t, ProjectSummary project, DateTime nowUtc)
    {
        var role = await ProjectStore.RoleAsync(c, t, project.Id);
        Instance? instance = null;
        IReadOnlyList<Trend> metrics = [];
        bool canBuild = false, canBackUp = false;
        if (project.ProductionBranchId is { } production)
        {
            var instances = await InstanceStore.ListAsync(c, t, project.Id, production, withRetired: false);
            instance = instances.FirstOrDefault(i => i.IsCurrent) ?? instances.FirstOrDefault();
            var (query, _) = MetricSeriesQuery.ParseSpan(null, null, null, "1h", nowUtc, "24h");
            metrics = [.. (await MetricBoard.ReadAsync(c, t, project.Id, production, query!, MetricCatalog.Headline))
                .Select(s => new Trend(s.Summary.Metric, s.Summary.Title, s.Summary.Unit, [.. s.Points.Select(p => p.Avg)], s.Summary.Last))];
            canBuild = await c.ExecuteScalarAsync<bool>("select ops.can_build(@projectId, @production)", new { projectId = project.Id, production }, t);
            canBackUp = (await BackupStore.ManageableBranchesAsync(c, t, project.Id)).Contains(production);
        }
        var deployment = (await DeploymentStore.ListAsync(c, t, project.Id, null, 1)).FirstOrDefault();
        var builds = await BuildStore.LatestPerStageAsync(c, t, project.Id, BuildsPerStage);
        var counts = (await c.QueryAsync<(string Severity, int Count)>("""
            select severity, count(*)::int from ops.advisories where project_id = @projectId and status = 'open' group by severity
            """, new { projectId = project.Id }, t)).ToDictionary(r => r.Severity, r => r.Count);
        return new(project, role, instance, deployment, builds,
            new(counts.GetValueOrDefault("critical"), counts.GetValueOrDefault("warning"), counts.GetValueOrDefault("info")),
            metrics, canBuild, canBackUp);
    }
}
