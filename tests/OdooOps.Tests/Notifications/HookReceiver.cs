using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// A real HTTP receiver for webhook and Slack-shaped deliveries: Kestrel on a free loopback port, recording every request
/// (path, headers, raw body) and answering with the statuses queued by the test (200 when none is queued), optionally
/// with a Retry-After, after a delay, or once the test opens its <see cref="Gate"/> (the request is recorded first, so
/// the test knows it is in flight). It checks the signatures with the secret as a receiver would.
/// </summary>
public sealed class HookReceiver : IAsyncDisposable
{
    public sealed record Received(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }

    public sealed record Reply(int Status, string? Body = null, int? RetryAfterSeconds = null);

    readonly WebApplication _app;
    readonly ConcurrentQueue<Reply> _answers = new();
    readonly List<Received> _received = [];
    readonly Lock _gate = new();
    TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Url { get; }
    public TimeSpan Delay { get; set; }

    /// <summary>Set: each request, once recorded, waits for it before being answered.</summary>
    public TaskCompletionSource? Gate { get; set; }

    HookReceiver(WebApplication app)
    {
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public static async Task<HookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        HookReceiver? receiver = null;
        app.Run(async http =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            await receiver!.RecordAsync(http, body.ToArray());
        });
        await app.StartAsync();
        return receiver = new HookReceiver(app);
    }

    async Task RecordAsync(HttpContext http, byte[] body)
    {
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay);
        var answer = _answers.TryDequeue(out var queued) ? queued : new Reply(200, "ok");
        lock (_gate)
        {
            _received.Add(new Received(http.Request.Path + http.Request.QueryString,
                http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body));
            _arrived.TrySetResult();
            _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (Gate is { } gate) await gate.Task;
        http.Response.StatusCode = answer.Status;
        if (answer.RetryAfterSeconds is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString();
        if (answer.Body is not null) await http.Response.WriteAsync(answer.Body);
    }

    /// <summary>The next requests get these answers, in order.</summary>
    public void Answer(params Reply[] answers)
    {
        foreach (var a in answers) _answers.Enqueue(a);
    }

    public IReadOnlyList<Received> All
    {
        get { lock (_gate) return [.. _received]; }
    }

    /// <summary>Waits (generously: a loaded machine is slow) until a request matching <paramref name="match"/> has arrived.</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, TimeSpan? patience = null)
    {
        using var deadline = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_received.FirstOrDefault(match) is { } found) return found;
                next = _arrived.Task;
            }
            try { await next.WaitAsync(deadline.Token); }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching request; received: {string.Join(", ", All.Select(r => r.Header("X-OdooOps-Event") + " " + r.Path))}");
            }
        }
    }

    public Task<Received> WaitForEventAsync(string name) => WaitForAsync(r => r.Header("X-OdooOps-Event") == name);

    /// <summary>The receiver's check: "sha256=" + hex HMAC-SHA256 of the raw body with the shared secret, compared in constant time.</summary>
    public static bool SignatureValid(Received r, string secret)
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), r.Body));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(r.Header("X-OdooOps-Signature-256")));
    }

    /// <summary>
    /// The timestamped check docs/notifications.md shows: the v2 signature over "timestamp.body", and a timestamp no older
    /// (nor later) than <paramref name="tolerance"/> from <paramref name="now"/> — a captured delivery replayed later fails.
    /// </summary>
    public static bool SignatureV2Valid(Received r, string secret, DateTimeOffset now, TimeSpan tolerance)
    {
        var timestamp = r.Header("X-OdooOps-Timestamp");
        if (!long.TryParse(timestamp, out var seconds) || Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds) return false;
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.ASCII.GetBytes(timestamp + "."), .. r.Body]));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(r.Header("X-OdooOps-Signature-v2")));
    }

    public async ValueTask DisposeAsync()
    {
        Gate?.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
