using System.CommandLine;
using OdooOps.Builds;

namespace OdooOps.Cli.Client;

/// <summary>`odooops builds trigger|list|logs|cancel|rebuild`, over the REST API with the stored token.</summary>
internal static class BuildsCommand
{
    public static Command Create()
    {
        var builds = new Command("builds", "Queue, list, follow and cancel builds (needs `odooops login`).");
        builds.Add(Trigger());
        builds.Add(List());
        builds.Add(BuildLogsCommand.Create());
        builds.Add(BuildActionsCommand.Cancel());
        builds.Add(BuildActionsCommand.Rebuild());
        return builds;
    }

    static Command Trigger()
    {
        var project = new Option<string>("--project") { Description = "The project's slug or id.", Required = true };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = new Option<string>("--branch") { Description = "The branch's name or id.", Required = true };
        var commit = new Option<string?>("--commit") { Description = "The commit to build (default: the branch head)." };
        var json = ProjectsCommand.JsonOption();
        var follow = BuildLogsCommand.FollowOption("After queueing,");
        var dryRun = new Option<bool>("--dry-run") { Description = "Queue nothing: show which modules a build of the branch head would install or update, and why." };
        var command = new Command("trigger",
            "Queue a build of a branch; the same branch and commit already queued or running is reported instead. " + BuildLogFollower.ExitCodeHelp)
            { project, org, branch, commit, json, follow, dryRun };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(json) && parse.GetValue(follow)) throw new ArgumentException("--json and --follow cannot be combined.");
            using var api = ApiClient.FromConfig();
            if (parse.GetValue(dryRun) && (parse.GetValue(follow) || parse.GetValue(commit) is not null))
                throw new ArgumentException("--dry-run reads the branch head: it cannot be combined with --commit or --follow.");
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var name = parse.GetValue(branch)!;
            if (parse.GetValue(dryRun)) return await DeploymentsCommand.PrintPlanAsync(api, p, name, parse.GetValue(json), ct);
            var body = Guid.TryParse(name, out var branchId)
                ? new BuildTriggerApi.TriggerBody(p.Id, branchId, null, parse.GetValue(commit))
                : new BuildTriggerApi.TriggerBody(p.Id, null, name, parse.GetValue(commit));
            var build = await api.PostAsync<Build>("api/ops/builds", body, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(build); return 0; }
            var line = $"Build {build.Id} of {p.Slug}/{build.Branch} is {build.Status}{(build.CommitSha is { } sha ? $" ({sha})" : "")}.";
            if (!parse.GetValue(follow)) { Console.WriteLine(line); return 0; }
            Console.Error.WriteLine(line); // stdout carries the log alone
            return await BuildLogsCommand.FollowAsync(new BuildLogFollower(api, Console.Out, Console.Error), build.Id, -1, ct);
        }));
        return command;
    }

    static Command List()
    {
        var project = new Option<string>("--project") { Description = "The project's slug or id.", Required = true };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = new Option<string?>("--branch") { Description = "Only this branch (name or id)." };
        var status = new Option<string?>("--status") { Description = "Only this status (queued, running, success, warning, failed, cancelled, timed_out)." };
        var limit = new Option<int>("--limit") { Description = "How many (1–200).", DefaultValueFactory = _ => 20 };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "A project's builds, newest first.") { project, org, branch, status, limit, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var query = $"limit={parse.GetValue(limit)}"
                + (parse.GetValue(branch) is { } b ? $"&branch={Uri.EscapeDataString(b)}" : "")
                + (parse.GetValue(status) is { } s ? $"&status={Uri.EscapeDataString(s)}" : "");
            var page = await api.GetAsync<BuildsApi.BuildPage>($"api/ops/projects/{p.Id}/builds?{query}", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(page); return 0; }
            ConsoleOutput.Table(["build", "branch", "status", "trigger", "commit", "queued"],
                page.Builds.Select(x => (IReadOnlyList<string?>)[x.Id.ToString(), x.Branch, x.Status, x.Trigger, x.CommitSha?[..Math.Min(12, x.CommitSha.Length)] ?? "—", ConsoleOutput.Ago(x.QueuedAt)]));
            if (page.Builds.Count == 0) Console.Error.WriteLine($"No builds in {p.Slug}.");
            return 0;
        }));
        return command;
    }
}
