using System.Text.Json;

namespace OdooOps.Bench;

/// <summary>
/// A client asking serve's proxy for an instance's /standin/info by host name, one request after another with a pause
/// between, as a user's browser would keep asking: every answer recorded with when it arrived (ms on one clock), whether
/// it was good (2xx) and which release answered.
/// </summary>
public sealed class HostPoller : IAsyncDisposable
{
    readonly HttpClient _http;
    readonly CancellationTokenSource _stop = new();
    readonly List<Answer> _answers = [];
    readonly Task _run;

    /// <param name="At">When the answer arrived (UTC, the clock the database's timestamps are on: same host).</param>
    public sealed record Answer(DateTime At, bool Good, string? Release, string What);

    public HostPoller(Uri server, string host, TimeSpan pause)
    {
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false }) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(5) };
        _run = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var answer = await AskAsync($"{host}:{server.Port}");
                lock (_answers) _answers.Add(answer);
                try { await Task.Delay(pause, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    async Task<Answer> AskAsync(string host)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/standin/info");
            request.Headers.Host = host;
            using var response = await _http.SendAsync(request, _stop.Token);
            var body = await response.Content.ReadAsStringAsync(_stop.Token);
            var at = DateTime.UtcNow;
            if (!response.IsSuccessStatusCode) return new Answer(at, false, null, $"{(int)response.StatusCode}");
            return new Answer(at, true, JsonDocument.Parse(body).RootElement.GetProperty("release").GetString(), "200");
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return new Answer(DateTime.UtcNow, true, null, "stopped"); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            return new Answer(DateTime.UtcNow, false, null, e.GetType().Name);
        }
    }

    /// <summary>The answers so far (a copy).</summary>
    public IReadOnlyList<Answer> Answers
    {
        get { lock (_answers) return [.. _answers.Where(a => a.What != "stopped")]; }
    }

    /// <summary>Whether <paramref name="release"/> has answered.</summary>
    public bool Saw(string release)
    {
        lock (_answers) return _answers.Any(a => a.Good && a.Release == release);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _http.Dispose();
    }
}
