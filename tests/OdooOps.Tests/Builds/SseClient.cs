using System.Diagnostics;
using System.Text.Json;

namespace OdooOps.Tests.Builds;

/// <summary>
/// Reads a Server-Sent Events response the way a browser's EventSource frames it (event, id, data, comments), with
/// the time each event arrived, so tests can say "this line arrived within a second".
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    public sealed record Event(string Name, string? Id, string Data, TimeSpan At)
    {
        public JsonElement Json => JsonDocument.Parse(Data).RootElement;
    }

    readonly HttpResponseMessage _response;
    readonly StreamReader _reader;
    readonly Stopwatch _clock = Stopwatch.StartNew();

    public List<string> Comments { get; } = [];
    public HttpResponseMessage Response => _response;

    SseClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body);
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    public static async Task<SseClient> OpenAsync(HttpClient client, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) // the body of a stream never ends: read it only when it is an error
            Assert.Fail($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return new SseClient(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next event, or null when the server closed the stream; fails the test after <paramref name="timeout"/>.</summary>
    public async Task<Event?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        string name = "message";
        string? id = null;
        var data = new List<string>();
        while (true)
        {
            string? line;
            try { line = await _reader.ReadLineAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"no event within {timeout ?? TimeSpan.FromSeconds(10)}"); }
            if (line is null) return null;
            if (line.Length == 0)
            {
                if (data.Count > 0) return new Event(name, id, string.Join('\n', data), _clock.Elapsed);
                continue;
            }
            if (line[0] == ':') { Comments.Add(line); continue; }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": name = value; break;
                case "id": id = value; break;
                case "data": data.Add(value); break;
            }
        }
    }

    /// <summary>
    /// Reads a quiet stream until the comment <paramref name="comment"/> arrives (kept in <see cref="Comments"/>);
    /// fails on an event line, or after <paramref name="timeout"/>.
    /// </summary>
    public async Task UntilCommentAsync(string comment, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            string? line;
            try { line = await _reader.ReadLineAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"no '{comment}' within {timeout}"); }
            if (line is null) throw new InvalidOperationException($"the stream ended before '{comment}'");
            if (line.Length == 0) continue;
            if (line[0] != ':') Assert.Fail($"an event on a quiet stream: {line}");
            Comments.Add(line);
            if (line == comment) return;
        }
    }

    /// <summary>Events until one named <paramref name="name"/> (included).</summary>
    public async Task<List<Event>> UntilAsync(string name, TimeSpan? timeout = null)
    {
        var events = new List<Event>();
        while (await NextAsync(timeout) is { } e)
        {
            events.Add(e);
            if (e.Name == name) return events;
        }
        throw new InvalidOperationException($"the stream ended before an '{name}' event: {string.Join(", ", events.Select(e => e.Name))}");
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
