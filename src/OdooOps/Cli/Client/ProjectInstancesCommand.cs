using System.CommandLine;
using OdooOps.Projects;

namespace OdooOps.Cli.Client;

/// <summary>`odooops projects instances PROJECT [--ttl-hours N] [--max-dev N]`: a project's development instances.</summary>
internal static class ProjectInstancesCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = ProjectsCommand.OrgOption("The organisation's slug, when the project's slug is used in several.");
        var ttl = new Option<double?>("--ttl-hours")
            { Description = "How long a development build's instance lives, in hours (0.17 = 10 minutes to 2160 = 90 days; project admins)." };
        var max = new Option<int?>("--max-dev") { Description = "How many development instances run at once, 0–100 (project admins)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("instances",
            "Show or set how long development instances live and how many run at once (a new lifetime applies to instances started afterwards).")
            { project, org, ttl, max, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var path = $"api/ops/projects/{target.Id}/instance-settings";
            var change = parse.GetValue(ttl) is not null || parse.GetValue(max) is not null;
            var result = change
                ? await api.PutAsync<ProjectInstanceSettings.Settings>(path, new InstanceSettingsApi.InstanceSettingsChange(parse.GetValue(ttl), parse.GetValue(max)), ct)
                : await api.GetAsync<ProjectInstanceSettings.Settings>(path, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(result); return 0; }
            Console.WriteLine($"{target.Slug}: development instances live {ProjectInstanceSettings.Describe(result.DevTtlHours)}, at most {result.MaxDevInstances} at once"
                + (change ? " (a new lifetime applies to instances started from now on)." : "."));
            return 0;
        }));
        return command;
    }
}
