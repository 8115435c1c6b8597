using System.CommandLine;

namespace OdooOps.Cli.Client;

/// <summary>`odooops builds logs ID [--follow] [--after SEQ]`.</summary>
internal static class BuildLogsCommand
{
    public static Argument<Guid> BuildIdArgument() => new("build-id") { Description = "The build's id (as `odooops builds list` prints it)." };

    /// <param name="prefix">Words before "stream the log…" ("After queueing,"), or none.</param>
    public static Option<bool> FollowOption(string? prefix = null) => new("--follow", "-f")
    {
        Description = prefix is null
            ? "Stream the log until the build ends; the exit code tells the result."
            : $"{prefix} stream the log until the build ends; the exit code tells the result.",
    };

    public static Command Create()
    {
        var id = BuildIdArgument();
        var follow = FollowOption();
        var after = new Option<long>("--after") { Description = "Only lines after this seq.", DefaultValueFactory = _ => -1 };
        var command = new Command("logs",
            "Print a build's log: stdout lines on stdout, stderr lines on stderr, OdooOps' own lines on stdout prefixed \"[system] \". "
            + BuildLogFollower.ExitCodeHelp)
            { id, follow, after };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var follower = new BuildLogFollower(api, Console.Out, Console.Error);
            var buildId = parse.GetValue(id);
            if (parse.GetValue(follow)) return await FollowAsync(follower, buildId, parse.GetValue(after), ct);
            await follower.PrintAsync(buildId, parse.GetValue(after), ct);
            return 0;
        }));
        return command;
    }

    /// <summary>Streams to the end and turns the final status into the exit code (a last line on stderr says it).</summary>
    public static async Task<int> FollowAsync(BuildLogFollower follower, Guid buildId, long after, CancellationToken ct)
    {
        var status = await follower.FollowAsync(buildId, after, ct);
        Console.Out.Flush();
        Console.Error.WriteLine($"Build {buildId} finished: {status.Replace('_', ' ')}.");
        return BuildLogFollower.ExitCode(status);
    }
}
