using System.CommandLine;
using OdooOps.Runners.Admin;

namespace OdooOps.Cli.Client;

/// <summary>`odooops runners hosting RUNNER [--on | --off] [--capacity N]`: whether a runner hosts Odoo instances.</summary>
internal static class RunnerHostingCommand
{
    public static Command Create()
    {
        var runner = new Argument<string>("RUNNER") { Description = "The runner's id, or its name when no other runner has it." };
        var org = ProjectsCommand.OrgOption("The organisation's slug or id (default: your only one).");
        var on = new Option<bool>("--on") { Description = "The runner hosts instances of successful builds (org owners and admins)." };
        var off = new Option<bool>("--off") { Description = "The runner runs builds only: no new instance goes there (org owners and admins)." };
        var capacity = new Option<int?>("--capacity") { Description = $"Instances it hosts at most, 0–{RunnerInstanceHosting.MaxCapacity}." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("hosting",
            "Show or set whether a runner hosts Odoo instances and how many at most (shared runners: system administrators); instances already there stay.")
            { runner, org, on, off, capacity, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(on) && parse.GetValue(off)) throw new ArgumentException("--on and --off exclude each other.");
            using var api = ApiClient.FromConfig();
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(org), ct);
            var r = await RunnerAdminCommand.ResolveRunnerAsync(api, o, parse.GetValue(runner)!, ct);
            bool? serves = parse.GetValue(on) ? true : parse.GetValue(off) ? false : null;
            if (serves is not null || parse.GetValue(capacity) is not null)
                r = await api.PutAsync<RunnerInfo>($"api/ops/orgs/{o.Id}/runners/{r.Id}/instance-hosting",
                    new RunnerAdminApi.InstanceHosting(serves, parse.GetValue(capacity)), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(r); return 0; }
            var synced = r.InstancesSeenAt is null ? "never synced" : $"synced {ConsoleOutput.Ago(r.InstancesSeenAt)}";
            Console.WriteLine(r.ServesInstances
                ? $"{r.Name}: serves instances, {r.InstancesPlaced} of {r.InstanceCapacity} placed; reached at {r.InstanceAddress ?? "127.0.0.1"}; {synced}."
                : $"{r.Name}: builds only (no new instance goes there); {r.InstancesPlaced} placed; {synced}.");
            return 0;
        }));
        return command;
    }
}
