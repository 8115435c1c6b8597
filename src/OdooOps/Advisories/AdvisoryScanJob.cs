using OdooOps.Scheduler;

namespace OdooOps.Advisories;

/// <summary>
/// The scheduled advisory scan (the specification's known issue 3: no cron): every 5 minutes by default, once per tick
/// across replicas. A rule that could not run fails the run, so the job's history and `doctor` show it.
/// </summary>
internal static class AdvisoryScanJob
{
    public static readonly ScheduledJob Job = new("advisory_scan", "*/5 * * * *", async (services, ct) =>
    {
        var outcome = await services.GetRequiredService<AdvisoryScanner>().ScanAsync(null, ct);
        var summary = $"{outcome.ProjectsScanned} project(s) scanned, {outcome.AdvisoriesCreated} created, {outcome.AdvisoriesResolved} resolved";
        return outcome.Unavailable.Count > 0
            ? throw new InvalidOperationException($"{summary}; could not run: {string.Join(", ", outcome.Unavailable)}")
            : summary;
    });
}
