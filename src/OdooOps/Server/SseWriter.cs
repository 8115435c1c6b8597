using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using OdooOps.Database;

namespace OdooOps.Server;

/// <summary>
/// One Server-Sent Events answer (the live logs of builds and instances): unbuffered headers, <c>retry: 2000</c> so
/// that EventSource reconnects after 2 s with Last-Event-ID, events gathered and sent together, and, between rounds, a
/// wait on the stream's <see cref="KeyedNotifications.Subscription"/> that writes a <c>: heartbeat</c> comment
/// whenever nothing was sent for the heartbeat interval.
/// </summary>
internal sealed class SseWriter
{
    public const string ContentType = "text/event-stream";

    readonly HttpResponse _response;
    readonly Func<TimeSpan> _heartbeat;
    readonly StringBuilder _pending = new();
    DateTime _quietSince = DateTime.UtcNow;

    SseWriter(HttpResponse response, Func<TimeSpan> heartbeat)
    {
        _response = response;
        _heartbeat = heartbeat;
    }

    /// <param name="heartbeat">Read at every wait, so that a changed setting applies to open streams.</param>
    public static async Task<SseWriter> StartAsync(HttpContext http, Func<TimeSpan> heartbeat, CancellationToken ct)
    {
        var response = http.Response;
        response.ContentType = $"{ContentType}; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx and friends: pass each event on as it comes
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var writer = new SseWriter(response, heartbeat);
        await response.StartAsync(ct);
        await writer.WriteAsync("retry: 2000\n\n", ct);
        return writer;
    }

    /// <summary>Where a stream resumes: the Last-Event-ID a reconnecting EventSource sends wins over the first URL's
    /// <paramref name="after"/>; a header that is not a seq is an error on <paramref name="v"/>.</summary>
    public static long? ResumeAfter(HttpRequest request, long? after, Validation v)
    {
        var lastEventId = request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length == 0) return after;
        if (long.TryParse(lastEventId, out var seq)) return seq;
        v.Add("Last-Event-ID", "Last-Event-ID must be the seq of a line.");
        return after;
    }

    /// <summary>Adds one event to the next <see cref="FlushAsync"/>; data is JSON, so it is one line (JSON escapes line breaks in strings).</summary>
    public void Event(string name, long? id, string data)
    {
        if (id is { } seq) _pending.Append("id: ").Append(seq).Append('\n');
        _pending.Append("event: ").Append(name).Append('\n');
        _pending.Append("data: ").Append(data).Append("\n\n");
    }

    /// <summary>Adds a <c>line</c> event (id: its seq, data: the line as JSON) for each of <paramref name="lines"/>; returns
    /// the seq of the last one, or <paramref name="after"/> when there is none.</summary>
    public long Lines<T>(IEnumerable<T> lines, Func<T, long> seq, JsonSerializerOptions json, long after)
    {
        foreach (var line in lines)
        {
            after = seq(line);
            Event("line", after, JsonSerializer.Serialize(line, json));
        }
        return after;
    }

    /// <summary>Sends the events added since the last flush, if any.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_pending.Length == 0) return;
        var text = _pending.ToString();
        _pending.Clear();
        await WriteAsync(text, ct);
    }

    /// <summary>Until woken; heartbeats go out whenever the stream was quiet that long.</summary>
    public async Task WaitAsync(KeyedNotifications.Subscription subscription, CancellationToken ct)
    {
        while (true)
        {
            var now = DateTime.UtcNow;
            var heartbeatAt = _quietSince + _heartbeat();
            if (now >= heartbeatAt)
            {
                await WriteAsync(": heartbeat\n\n", ct);
                continue;
            }
            if (await subscription.WaitAsync(heartbeatAt - now, ct)) return;
        }
    }

    async Task WriteAsync(string text, CancellationToken ct)
    {
        await _response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await _response.Body.FlushAsync(ct);
        _quietSince = DateTime.UtcNow;
    }
}
