using Dapper;
using OdooOps.Database;

namespace OdooOps.Advisories;

/// <summary>
/// One advisory scan: the configured thresholds and (when the system project is in scope) this server's own
/// measurements go to ops.run_advisory_scan in one call over the ops_service pool, which evaluates every rule
/// set-based over all projects. Rules that could not run are logged with their reason and named in the outcome.
/// </summary>
internal sealed partial class AdvisoryScanner(OpsDatabase db, AdvisorySettings settings, IServerHealthProbe probe, ILogger<AdvisoryScanner> log)
{
    /// <summary>The built-in "OdooOps" project of the 'odooops-system' org (ops.system_project_id).</summary>
    public static readonly Guid SystemProjectId = Guid.Parse("00000000-0000-4000-8000-0000000005e1");

    public sealed record Outcome(int AdvisoriesCreated, int AdvisoriesResolved, int ProjectsScanned, IReadOnlyList<string> Unavailable);

    /// <summary>A class, not a record: Dapper types text[] columns as Array, which matches no string[] constructor parameter.</summary>
    public sealed class ScanRow
    {
        public int AdvisoriesCreated { get; init; }
        public int AdvisoriesResolved { get; init; }
        public int ProjectsScanned { get; init; }
        public string[] Unavailable { get; init; } = [];
        public string[] UnavailableReasons { get; init; } = [];
    }

    /// <param name="projectId">One project, or null for all (the system project included).</param>
    public async Task<Outcome> ScanAsync(Guid? projectId, CancellationToken ct)
    {
        var inputs = settings.Thresholds();
        List<string> unmeasured = [];
        // A single-project scan leaves the server window alone, so the next full scan still judges all of it.
        if (projectId is null || projectId == SystemProjectId)
        {
            var health = probe.Measure();
            inputs["server"] = health.ToJson();
            unmeasured.AddRange(health.Unavailable);
            foreach (var rule in health.Unavailable) RuleUnavailable(log, rule, "this server's metrics could not be read");
        }

        await using var conn = await db.Service.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleAsync<ScanRow>(new CommandDefinition(
            "select * from ops.run_advisory_scan(@projectId, @inputs::jsonb)", new { projectId, inputs = inputs.ToJsonString() }, cancellationToken: ct));
        foreach (var reason in row.UnavailableReasons)
        {
            var split = reason.IndexOf(": ", StringComparison.Ordinal);
            RuleUnavailable(log, split < 0 ? reason : reason[..split], split < 0 ? "" : reason[(split + 2)..]);
        }
        return new Outcome(row.AdvisoriesCreated, row.AdvisoriesResolved, row.ProjectsScanned, [.. row.Unavailable, .. unmeasured]);
    }

    [LoggerMessage(EventId = 1400, Level = LogLevel.Warning, Message = "Advisory rule {rule} could not run; its advisories are left as they were: {reason}")]
    static partial void RuleUnavailable(ILogger logger, string rule, string reason);
}

internal static class AdvisoriesSetup
{
    /// <summary>Reads the thresholds now, so a bad OPS_ADVISORY_* value stops `serve` at start with the key named.</summary>
    public static IServiceCollection AddAdvisories(this IServiceCollection services, IConfiguration config) =>
        services.AddSingleton(AdvisorySettings.FromConfiguration(config))
            .AddSingleton<IServerHealthProbe, InProcessHealthProbe>()
            .AddSingleton<AdvisoryScanner>();
}
