using System.CommandLine;
using OdooOps.Builds;

namespace OdooOps.Cli.Client;

/// <summary>`odooops builds cancel ID` and `odooops builds rebuild ID [--follow]`.</summary>
internal static class BuildActionsCommand
{
    public static Command Cancel()
    {
        var id = BuildLogsCommand.BuildIdArgument();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("cancel",
            "Cancel a build: a queued build is cancelled at once, a running one is stopped by its runner shortly after. Fails for a finished build.")
            { id, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var buildId = parse.GetValue(id);
            var build = await api.PostAsync<Build>($"api/ops/builds/{buildId}/cancel", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(build); return 0; }
            Console.WriteLine(build.Status == BuildStatus.Cancelled
                ? $"Build {build.Id} is cancelled."
                : $"Build {build.Id}: cancel requested; it is {build.Status} until its runner stops it.");
            return 0;
        }));
        return command;
    }

    public static Command Rebuild()
    {
        var id = BuildLogsCommand.BuildIdArgument();
        var follow = BuildLogsCommand.FollowOption("After queueing,");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("rebuild",
            "Queue a new build of the same branch and commit (the one already queued or running is reported instead). " + BuildLogFollower.ExitCodeHelp)
            { id, follow, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(json) && parse.GetValue(follow)) throw new ArgumentException("--json and --follow cannot be combined.");
            using var api = ApiClient.FromConfig();
            var source = parse.GetValue(id);
            var build = await api.PostAsync<Build>($"api/ops/builds/{source}/rebuild", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(build); return 0; }
            var line = $"Build {build.Id} of {build.Branch} is {build.Status}{(build.CommitSha is { } sha ? $" ({sha})" : "")}.";
            if (!parse.GetValue(follow)) { Console.WriteLine(line); return 0; }
            Console.Error.WriteLine(line);
            return await BuildLogsCommand.FollowAsync(new BuildLogFollower(api, Console.Out, Console.Error), build.Id, -1, ct);
        }));
        return command;
    }
}
