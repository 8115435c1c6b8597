using System.Text.Json;
using OdooOps.Builds;
using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Cli.Client;

/// <summary>
/// Prints a build's log the way `odooops builds logs` shows it — stdout lines on stdout, stderr lines on stderr,
/// the server's and runner's own lines on stdout prefixed "[system] " — and follows it live over the SSE endpoint
/// (<see cref="LiveStream"/>), reopened after the last line printed.
/// </summary>
internal sealed class BuildLogFollower(ApiClient api, TextWriter stdout, TextWriter stderr)
{
    /// <summary>Exit codes of `logs --follow` (and `trigger|rebuild --follow`) by the build's final status.</summary>
    public static int ExitCode(string status) => status switch
    {
        BuildStatus.Success or BuildStatus.Warning => 0,
        BuildStatus.Failed => 1,
        BuildStatus.Cancelled => 3,
        BuildStatus.TimedOut => 4,
        _ => 1,
    };

    public const string ExitCodeHelp = "Exit code with --follow: 0 success or warning, 1 failed (or the command itself failed: see the error line), 3 cancelled, 4 timed out.";

    /// <summary>Everything stored so far (paging through GET …/logs); returns the last seq printed.</summary>
    public async Task<long> PrintAsync(Guid buildId, long after, CancellationToken ct)
    {
        while (true)
        {
            var page = await api.GetAsync<BuildLogPage>($"api/ops/builds/{buildId}/logs?after={after}&limit={BuildLogsApi.MaxLimit}", ct);
            foreach (var line in page.Lines) Print(line);
            after = page.NextAfter;
            if (page.Complete || page.Lines.Count < BuildLogsApi.MaxLimit) return after;
        }
    }

    /// <summary>Prints lines as they are stored until the build ends; returns its final status.</summary>
    public async Task<string> FollowAsync(Guid buildId, long after, CancellationToken ct)
    {
        string? status = null;
        await LiveStream.FollowAsync(api, () => $"api/ops/builds/{buildId}/logs/stream?after={after}", e =>
        {
            if (e.Name == "line" && JsonSerializer.Deserialize<BuildLogLine>(e.Data, ApiClient.Json) is { } line)
            {
                Print(line);
                after = line.Seq;
            }
            else if (e.Name == "end")
                status = JsonSerializer.Deserialize<EndEvent>(e.Data, ApiClient.Json)?.Status ?? BuildStatus.Failed;
            return status is not null;
        }, $"the log stream of build {buildId}", ct);
        return status!;
    }

    sealed record EndEvent(string Status, string? ResultDetail);

    void Print(BuildLogLine line)
    {
        // Colour codes pass through to a terminal; a file or pipe gets plain text.
        switch (line.Stream)
        {
            case "stderr":
                stderr.WriteLine(Console.IsErrorRedirected ? AnsiEscapes.Strip(line.Line) : line.Line);
                break;
            case "system":
                stdout.WriteLine(ConsoleOutput.Paint("[system] ", "2") + (ConsoleOutput.UseColour ? line.Line : AnsiEscapes.Strip(line.Line)));
                break;
            default:
                stdout.WriteLine(ConsoleOutput.UseColour ? line.Line : AnsiEscapes.Strip(line.Line));
                break;
        }
    }
}
