using System.Net;
using System.Net.Http.Json;
using static OdooOps.Runners.Protocol.RunnerProtocol;
using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Agent;

/// <summary>The server refused a call because this runner no longer holds the build (409): stop the build, report nothing.</summary>
internal sealed class LeaseLostException(string message) : Exception(message);

/// <summary>
/// A transient refusal (503 from a server whose database is down, 429, a proxy's 502/504) that said how long to wait
/// (Retry-After): the runner's retries wait at least that long.
/// </summary>
internal sealed class RetryLaterException(string message, HttpStatusCode status, TimeSpan retryAfter) : HttpRequestException(message, null, status)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The runner half of <see cref="RunnerProtocol"/> over HTTP. One instance per runner; thread-safe.</summary>
public sealed partial class DispatchClient : IDisposable
{
    readonly HttpClient _http;
    readonly HttpClient _bulk;

    public DispatchClient(Uri server, string token, HttpMessageHandler? handler = null)
    {
        // Longer than the longest long poll, so that a held jobs/next is never cut by the client.
        handler ??= new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        _http = new HttpClient(handler, disposeHandler: false) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(MaxWaitSeconds + 30) };
        // Backup files take as long as their size: bounded by the task's lease and cancellation, not by a timeout.
        _bulk = new HttpClient(handler, disposeHandler: true) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        foreach (var client in new[] { _http, _bulk })
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            client.DefaultRequestHeaders.UserAgent.ParseAdd($"odooops-runner/{typeof(DispatchClient).Assembly.GetName().Version}");
        }
    }

    /// <summary>Exchanges a registration token for a runner token (no runner token needed yet).</summary>
    public static async Task<Registered> RegisterAsync(Uri server, RegisterRequest request, CancellationToken ct = default)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PostAsJsonAsync(Register, request, Json, ct);
        await EnsureAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<Registered>(Json, ct))!;
    }

    /// <summary>Leased jobs (at most <paramref name="max"/>), or none when the wait ran out.</summary>
    public async Task<IReadOnlyList<Job>> NextAsync(int max, int waitSeconds, CancellationToken ct)
    {
        using var response = await _http.PostAsJsonAsync(Next, new NextRequest(max, waitSeconds), Json, ct);
        if (response.StatusCode == HttpStatusCode.NoContent) return [];
        await EnsureAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<NextResponse>(Json, ct))!.Jobs;
    }

    /// <summary>One try, bounded by <see cref="CallTimeout"/>: the heartbeat calls again a second later anyway.</summary>
    public async Task<Extended> ExtendAsync(Job job, CancellationToken ct) =>
        (await PostAsync<Extended>(RunnerProtocol.Extend(job.BuildId), new ExtendRequest(job.LeaseId), retry: false, ct))!;

    public Task SourceAsync(Job job, string commitSha, string? message, IReadOnlyList<Module> modules, CancellationToken ct, string? requirementsSha256 = null) =>
        PostAsync<object>(RunnerProtocol.Source(job.BuildId), new SourceRequest(job.LeaseId, commitSha, message, modules) { RequirementsSha256 = requirementsSha256 }, retry: true, ct);

    /// <summary>One try: the log batcher retries the very same lines itself. <c>cut</c>: send no more lines of this build.</summary>
    public async Task<LogsAccepted> LogsAsync(Job job, IReadOnlyList<LogLine> lines, CancellationToken ct) =>
        await PostAsync<LogsAccepted>(RunnerProtocol.Logs(job.BuildId), new LogsRequest(job.LeaseId, lines), retry: false, ct) ?? new LogsAccepted(0);

    public Task StepAsync(Job job, int seq, StepRequest step, CancellationToken ct) =>
        PostAsync<object>(RunnerProtocol.Step(job.BuildId, seq), step with { LeaseId = job.LeaseId }, retry: true, ct);

    public Task DoneAsync(Job job, string result, string? detail, CancellationToken ct, BuildRelease? release = null, BuildRevert? reverted = null) =>
        PostAsync<object>(RunnerProtocol.Done(job.BuildId), new DoneRequest(job.LeaseId, result, detail) { Release = release, Reverted = reverted }, retry: true, ct);

    /// <summary>One try: the supervisor syncs again a moment later anyway.</summary>
    public async Task<SyncResponse> SyncInstancesAsync(SyncRequest request, CancellationToken ct) =>
        (await PostAsync<SyncResponse>(InstancesSync, request, retry: false, ct))!;

    /// <summary>One try: the instance's log batcher retries the very same lines itself.</summary>
    public async Task<LogsAccepted> InstanceLogsAsync(Guid instanceId, IReadOnlyList<InstanceLogLine> lines, CancellationToken ct) =>
        await PostAsync<LogsAccepted>(RunnerProtocol.InstanceLogs(instanceId), new InstanceLogsRequest(lines), retry: false, ct) ?? new LogsAccepted(0);

    /// <summary>An instance's samples through the public ingest endpoint, with the project's ingest token (not the runner's).</summary>
    public async Task PostMetricsAsync(string ingestToken, object batch, CancellationToken ct)
    {
        using var call = CancellationTokenSource.CreateLinkedTokenSource(ct);
        call.CancelAfter(CallTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, Metrics.MetricsIngestApi.Route) { Content = JsonContent.Create(batch, options: Json) };
        request.Headers.Authorization = null;
        request.Headers.Add(Metrics.MetricsIngestApi.TokenHeader, ingestToken);
        using var response = await _http.SendAsync(request, call.Token);
        await EnsureAsync(response, call.Token);
    }

    /// <summary>Hands an unfinished build back (the runner is stopping): queued again at once. One try: the rescuer covers a miss.</summary>
    public async Task<string> ReleaseAsync(Job job, string reason, CancellationToken ct) =>
        (await PostAsync<Released>(RunnerProtocol.Release(job.BuildId), new ReleaseRequest(job.LeaseId, reason), retry: false, ct))!.Status;

    /// <summary>How long one call (other than the long poll) may take before it counts as failed.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Waits between tries of a reporting call (source, step, done) that failed on the network or with 5xx/429:
    /// about half a minute in all, within the lease a heartbeat keeps renewing. Every such call is idempotent — a
    /// repeated step or source report overwrites itself, a repeated done after a lost answer is refused with 409.
    /// </summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; init; } =
        [.. new[] { 0.5, 1, 2, 4, 8, 15 }.Select(TimeSpan.FromSeconds)];

    internal async Task<T?> PostAsync<T>(string path, object body, bool retry, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var call = CancellationTokenSource.CreateLinkedTokenSource(ct);
                call.CancelAfter(CallTimeout);
                try
                {
                    using var response = await _http.PostAsJsonAsync(path, body, Json, call.Token);
                    await EnsureAsync(response, call.Token);
                    return response.StatusCode == HttpStatusCode.NoContent ? default : await response.Content.ReadFromJsonAsync<T>(Json, call.Token);
                }
                catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
                {
                    throw new HttpRequestException($"{path}: no answer within {CallTimeout.TotalSeconds:0} s.", e);
                }
            }
            catch (HttpRequestException e) when (retry && attempt < RetryDelays.Count && IsTransient(e))
            {
                await Task.Delay(NextDelay(e, RetryDelays[attempt], RetryDelays[^1]), ct);
            }
        }
    }

    /// <summary>Worth another try: no answer at all, a server error, or "too many requests".</summary>
    public static bool IsTransient(HttpRequestException e) => IsTransient(e.StatusCode);

    static bool IsTransient(HttpStatusCode? status) =>
        status is null or >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;

    /// <summary>
    /// The wait before the next try: the caller's own back-off, or what the server asked for when that is longer —
    /// capped at <paramref name="cap"/>, so that a wrong header cannot park the runner.
    /// </summary>
    public static TimeSpan NextDelay(Exception e, TimeSpan own, TimeSpan cap) =>
        Cli.RetryAfter.Next(own, (e as RetryLaterException)?.RetryAfter, cap);

    /// <summary>
    /// 409 → <see cref="LeaseLostException"/>; a transient refusal with Retry-After → <see cref="RetryLaterException"/>;
    /// any other failure → HttpRequestException with the server's detail.
    /// </summary>
    internal static async Task EnsureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(ct);
        var detail = text.Length > 500 ? text[..500] : text;
        if (response.StatusCode == HttpStatusCode.Conflict) throw new LeaseLostException(detail);
        var message = $"{(int)response.StatusCode} {response.ReasonPhrase}: {detail}";
        if (IsTransient(response.StatusCode) && Cli.RetryAfter.Of(response) is { } wait) throw new RetryLaterException(message, response.StatusCode, wait);
        throw new HttpRequestException(message, null, response.StatusCode);
    }

    public void Dispose()
    {
        _http.Dispose();
        _bulk.Dispose();
    }
}
