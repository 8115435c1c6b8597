using System.CommandLine;
using OdooOps.Metrics;
using OdooOps.Projects;

namespace OdooOps.Cli.Client;

/// <summary>`odooops projects show PROJECT`: the project's overview page over the API (production, last deployment, builds, advisories, 24 h of metrics).</summary>
internal static class ProjectOverviewCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("show", "A project at a glance: production's instance, last deployment, last builds per stage, open advisories, 24 h of CPU, memory and requests.")
            { project, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var o = await api.GetAsync<ProjectOverview>($"api/ops/projects/{p.Id}/overview", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(o); return 0; }
            Console.WriteLine($"{o.Project.Name} ({o.Project.Slug}), Odoo {o.Project.RuntimeVersion}, you are {o.Role}");
            Console.WriteLine($"production:  {o.Project.ProductionBranch ?? "none"}" + (o.ProductionInstance is { } i
                ? $", instance {i.State}{(i.Url is { } url ? $" at {url}" : "")}, release {i.BuildId.ToString()[..8]}" : ", no instance"));
            Console.WriteLine("deployment:  " + (o.LastDeployment is { } d
                ? $"{d.Status} on {d.Branch}, {d.CommitSha?[..Math.Min(12, d.CommitSha.Length)] ?? "—"}, {ConsoleOutput.Ago(d.FinishedAt ?? d.CreatedAt)}" : "none"));
            Console.WriteLine($"advisories:  {o.OpenAdvisories.Critical} critical, {o.OpenAdvisories.Warning} warning, {o.OpenAdvisories.Info} info open");
            foreach (var m in o.Metrics)
                Console.WriteLine($"{m.Title + ":",-13}{MetricCatalog.Format(m.Metric, m.Last)} now, {MetricCatalog.Format(m.Metric, m.Values.DefaultIfEmpty().Max())} highest in 24 h");
            Console.WriteLine();
            ConsoleOutput.Table(["build", "stage", "branch", "status", "queued"],
                o.LastBuilds.Select(b => (IReadOnlyList<string?>)[b.Id.ToString(), b.Stage, b.Branch, b.Status, ConsoleOutput.Ago(b.QueuedAt)]));
            return 0;
        }));
        return command;
    }
}
