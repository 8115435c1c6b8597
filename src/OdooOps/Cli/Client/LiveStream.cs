using OdooOps.Builds;

namespace OdooOps.Cli.Client;

/// <summary>
/// Follows a live log endpoint (Server-Sent Events) for the `logs --follow` verbs: a dropped or silent stream (no
/// heartbeat for a minute) is reopened at the path the caller gives for where it stands now, so no line is shown twice or
/// skipped; past the server's caps on open streams (429) it waits as long as the server asks; it gives up after ten
/// failures in a row.
/// </summary>
internal static class LiveStream
{
    public sealed record SseEvent(string Name, string Data);

    const int MaxFailures = 10;
    static readonly TimeSpan Silence = TimeSpan.FromSeconds(60); // four missed heartbeats: the connection is dead

    /// <param name="path">Where to (re)connect, asked before every attempt.</param>
    /// <param name="handle">Takes each event; true ends the following.</param>
    /// <param name="what">"the log stream of build …", for the error when it gives up.</param>
    public static async Task FollowAsync(ApiClient api, Func<string> path, Func<SseEvent, bool> handle, string what, CancellationToken ct)
    {
        var failures = 0;
        var tooMany = false;
        string? lastError = null;
        while (true)
        {
            try
            {
                using var response = await api.OpenStreamAsync(path(), BuildLogStream.ContentType, ct);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                using var reader = new StreamReader(body);
                await foreach (var e in ReadEventsAsync(reader, ct))
                {
                    failures = 0;
                    if (handle(e)) return;
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
            if (++failures > MaxFailures) throw new ApiException(null, $"lost {what}: {lastError}");
            await Task.Delay(TimeSpan.FromSeconds(tooMany ? BuildLogStreamLimits.RetryAfterSeconds : Math.Min(failures, 5)), ct);
        }
    }

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
}
