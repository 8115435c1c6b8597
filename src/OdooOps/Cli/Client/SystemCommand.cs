using System.CommandLine;
using OdooOps.SystemStatus;
using OdooOps.SystemStatus.Pages;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops system status`: the System page over the API (system administrators): the monitoring checks with their
/// thresholds, the build queue, runners, the database, and each scheduled job's last run. `--fail-on-warning` exits 3
/// when a check warns, for a cron or a monitoring script.
/// </summary>
internal static class SystemCommand
{
    public static Command Create()
    {
        var system = new Command("system", "The server's own state (system administrators; needs `odooops login`).");
        var json = ProjectsCommand.JsonOption();
        var fail = new Option<bool>("--fail-on-warning") { Description = "Exit with 3 when a check warns." };
        var status = new Command("status", "Checks, build queue, runners, database, connections and scheduled jobs, as the System page shows them.") { json, fail };
        status.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var report = await api.GetAsync<SystemReport>("api/ops/system", ct);
            if (parse.GetValue(json)) ConsoleOutput.Json(report);
            else Print(report);
            return parse.GetValue(fail) && report.Checks.Any(c => c.Status == SystemReport.Warning) ? 3 : 0;
        }));
        system.Add(status);
        return system;
    }

    static void Print(SystemReport r)
    {
        ConsoleOutput.Table(["check", "status", "now", "threshold"], r.Checks.Select(c => (IReadOnlyList<string?>)[c.Name, c.Status, c.Value, c.Threshold]));
        Console.WriteLine();
        var q = r.BuildQueue;
        Console.WriteLine($"build queue: {q.Queued} queued, {q.Leased} running" + (q.OldestQueuedAt is { } at ? $"; oldest {q.OldestProject}, queued {ConsoleOutput.Ago(at)}" : ""));
        Console.WriteLine($"runners:     {r.Runners.Online} of {r.Runners.Total} online, {r.Runners.Capacity} builds at once" + (r.Runners.Disabled > 0 ? $", {r.Runners.Disabled} disabled" : ""));
        Console.WriteLine($"database:    {SystemDisplay.Bytes(r.Database.SizeBytes)}, {r.Database.Connections.Sum(c => c.Connections)} of {r.Database.MaxConnections} connections open");
        foreach (var p in r.Database.Pools) Console.WriteLine($"pool {p.Name}: {p.Used} in use, {p.Idle} idle, at most {p.Max}");
        Console.WriteLine();
        ConsoleOutput.Table(["job", "cron", "last run", "outcome", "failed 24h", "detail"], r.Jobs.Select(j =>
        {
            var last = j.RecentRuns.FirstOrDefault();
            return (IReadOnlyList<string?>)[j.Name, j.Cron, last is null ? "never" : ConsoleOutput.Ago(last.StartedAt), last?.Outcome ?? "—",
                j.FailedLastDay.ToString(), last?.Detail];
        }));
    }
}
