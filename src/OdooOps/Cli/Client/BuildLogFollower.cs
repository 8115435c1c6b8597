using System.Text.Json;
using OdooOps.Builds;
using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Cli.Client;

/// <summary>
/// Prints a build's log the way `odooops builds logs` shows it — stdout lines on stdout, stderr lines on stderr,
/// the server's and runner's own lines on stdout prefixed "[system] " — and follows it live over the SSE endpoint.
/// A dropped stream is reopened after the last line printed, so no line is shown twice or skipped.
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

    const int MaxFailures = 10;
    static readonly TimeSpan Silence = TimeSpan.FromSeconds(60); // four missed heartbeats: the connection is dead

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
        var failures = 0;
        var tooMany = false;
        string? lastError = null;
        while (true)
        {
            try
            {
                using var response = await api.OpenStreamAsync($"api/ops/builds/{buildId}/logs/stream?after={after}", BuildLogStream.ContentType, ct);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                using var reader = new StreamReader(body);
                await foreach (var e in ReadEventsAsync(reader, ct))
                {
                    failures = 0;
                    if (e.Name == "line" && JsonSerializer.Deserialize<BuildLogLine>(e.Data, ApiClient.Json) is { } line)
                    {
                        Print(line);
                        after = line.Seq;
                    }
                    else if (e.Name == "end")
                        return JsonSerializer.Deserialize<EndEvent>(e.Data, ApiClient.Json)?.Status ?? BuildStatus.Failed;
                }
                lastError = "the server closed the stream";
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or HttpRequestException or OperationCanceledException
                                      or ApiException { Status: null or System.Net.HttpStatusCode.TooManyRequests })
            {
                lastError = e.Message;
                // Too many streams open (this user's or the server's): wait as long as the server asks before trying again.
                tooMany = e is ApiException { Status: System.Net.HttpStatusCode.TooManyRequests };
            }
            if (++failures > MaxFailures) throw new ApiException(null, $"lost the log stream of build {buildId}: {lastError}");
            await Task.Delay(TimeSpan.FromSeconds(tooMany ? BuildLogStreamLimits.RetryAfterSeconds : Math.Min(failures, 5)), ct);
        }
    }

    sealed record EndEvent(string Status, string? ResultDetail);

    public sealed record SseEvent(string Name, string Data);

    /// <summary>Server-Sent Events as the HTML spec frames them; comments (heartbeats) and ids are read past.</summary>
    static async IAsyncEnumerable<SseEvent> ReadEventsAsync(StreamReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string name = "message";
        var data = new List<string>();
        while (true)
        {
            using var silence = CancellationTokenSource.CreateLinkedTokenSource(ct);
            silence.CancelAfter(Silence);
            var line = await reader.ReadLineAsync(silence.Token);
            if (line is null) yield break;
            if (line.Length == 0)
            {
                if (data.Count > 0) yield return new SseEvent(name, string.Join('\n', data));
                name = "message";
                data.Clear();
                continue;
            }
            if (line[0] == ':') continue;
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            if (field == "event") name = value;
            else if (field == "data") data.Add(value);
        }
    }

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
