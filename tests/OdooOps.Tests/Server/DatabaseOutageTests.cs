using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Database;
using OdooOps.Metrics;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Server;

/// <summary>
/// PostgreSQL stopped hard (pg_ctl stop -m immediate) under ingest load, then started again: every answer meanwhile is
/// a 503 with Retry-After and a ProblemDetails (never a 500), /readyz says 503, answers return to 200 once the database
/// is back, and every sample acknowledged with {"inserted": N} is stored — acknowledged == stored. On a private,
/// durable cluster of its own: the suite's shared cluster must keep running, and without fsync an immediate stop may
/// lose commits the server already acknowledged.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    const int Clients = 4, SamplesPerBatch = 20;

    readonly string _dir = Path.Combine(Path.GetTempPath(), $"odooops-outage-{Guid.NewGuid():N}"[..36]);
    readonly ConcurrentQueue<string> _wrong = new();
    // One clock for all clients: each sample gets the next microsecond after it, so no two samples are duplicates.
    readonly DateTime _epoch = new(DateTime.UtcNow.AddHours(-1).Ticks / 10 * 10, DateTimeKind.Utc);
    LocalPostgres _cluster = null!;
    NpgsqlConnectionStringBuilder _owner = null!;
    OpsDatabase _database = null!;
    WebApplication _app = null!;
    HttpClient _http = null!;
    Guid _project;
    string _token = "";
    long _ok, _unavailable, _acknowledged, _generated, _clock;

    public async ValueTask InitializeAsync()
    {
        _cluster = await LocalPostgres.StartAsync(_dir); // durable, as in production
        _owner = _cluster.ConnectionString();
        _owner.Pooling = false;
        await new Migrator(_owner.ConnectionString).MigrateAsync();
        _database = OpsDatabase.Create(await LoginRoles.EnsureAsync(_owner));
        // The outage makes the server log an error per request: keep the test output readable.
        _app = TestHosts.Build(_database, "http://127.0.0.1:0", b => b.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "None" }));
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        var org = await Accounts.CreateOrgAsync(_owner, "outage-org");
        _project = await Accounts.CreateProjectAsync(_owner, org, "outage");
        _token = await Accounts.CreateTokenAsync(_owner, await Accounts.CreateUserAsync(_owner, "owner@outage.test", org, "owner"));
    }

    [Fact]
    public async Task A_database_outage_answers_503_with_retry_after_and_loses_no_acknowledged_sample()
    {
        using var stopLoad = new CancellationTokenSource();
        var load = Enumerable.Range(0, Clients).Select(_ => Task.Run(() => IngestAsync(stopLoad.Token)))
            .Append(Task.Run(() => ReadProjectsAsync(stopLoad.Token))).ToList();
        await WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref _ok) >= 20), "answers before the outage", load);

        var bin = PostgresBinaries.Locate();
        var stop = await bin.RunServerToolAsync("pg_ctl", ["stop", "-D", _cluster.ClusterDir, "-m", "immediate", "-w", "-t", "60"]);
        Assert.True(stop.ExitCode == 0, stop.Describe());
        var before = Interlocked.Read(ref _unavailable);
        await WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref _unavailable) >= before + 30), "503 answers during the outage", load);
        using (var ready = await _http.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.NotNull(ready.Headers.RetryAfter);
        }

        // restart takes the options of the last start (postmaster.opts): same port, same socket folder
        var start = await bin.RunServerToolAsync("pg_ctl", ["restart", "-D", _cluster.ClusterDir, "-w", "-t", "60", "-l", _cluster.LogFile]);
        Assert.True(start.ExitCode == 0, start.Describe());
        await WaitUntilAsync(async () => (await _http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "/readyz to be 200 again", load);
        var after = Interlocked.Read(ref _ok);
        await WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref _ok) >= after + 20), "200 answers after the outage", load);

        await stopLoad.CancelAsync(); // each client finishes its batch in hand: every batch ends acknowledged
        await Task.WhenAll(load).WaitAsync(Patience);
        Assert.Empty(_wrong);
        Assert.True(Interlocked.Read(ref _unavailable) >= 30);
        await using var conn = await Accounts.OpenAsync(_owner);
        var stored = await conn.ExecuteScalarAsync<long>("select count(*) from ops.metric_samples where project_id = @_project", new { _project });
        Assert.Equal((_generated, _generated), (_acknowledged, stored));
    }

    /// <summary>
    /// A careful metrics agent: batches of samples with timestamps never used before, each sent with its own
    /// Idempotency-Key until it is acknowledged. A batch stored just before the crash whose answer was lost (a 503) is
    /// acknowledged by its repeat: the key replays the first answer instead of "inserted 0" for the duplicates.
    /// </summary>
    async Task IngestAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var samples = string.Join(",", Enumerable.Range(0, SamplesPerBatch).Select(_ =>
                $$"""{"metric": "outage.load", "value": 1, "ts": "{{_epoch.AddTicks(10 * Interlocked.Increment(ref _clock)):yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'}}"}"""));
            Interlocked.Add(ref _generated, SamplesPerBatch);
            var body = $$"""{"project_id": "{{_project}}", "samples": [{{samples}}]}""";
            var key = Guid.NewGuid().ToString("N");
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, MetricsIngestApi.Route) { Content = new StringContent(body, Encoding.UTF8) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add(MetricsIngestApi.TokenHeader, TestHosts.IngestToken);
                request.Headers.Add(MetricsIngestApi.IdempotencyHeader, key);
                using var response = await _http.SendAsync(request);
                if (await CheckAsync(response, "ingest") is { } text)
                {
                    using var answer = JsonDocument.Parse(text);
                    Interlocked.Add(ref _acknowledged, answer.RootElement.GetProperty("inserted").GetInt64());
                    break;
                }
                await Task.Delay(20);
            }
        }
    }

    /// <summary>An API reader: its personal access token is looked up in the database before anything else.</summary>
    async Task ReadProjectsAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ops/projects");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            using var response = await _http.SendAsync(request);
            await CheckAsync(response, "projects");
            await Task.Delay(20);
        }
    }

    /// <summary>The body of a 200; null for a correct 503 (counted); anything else is recorded as wrong.</summary>
    async Task<string?> CheckAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.OK)
        {
            Interlocked.Increment(ref _ok);
            return text;
        }
        Interlocked.Increment(ref _unavailable);
        if (response.StatusCode != HttpStatusCode.ServiceUnavailable || response.Headers.RetryAfter?.Delta is not { TotalSeconds: > 0 } ||
            response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !IsProblemOf503(text))
            _wrong.Enqueue($"{what}: {(int)response.StatusCode} Retry-After={response.Headers.RetryAfter} {text}");
        return null;
    }

    static bool IsProblemOf503(string text)
    {
        try
        {
            using var problem = JsonDocument.Parse(text);
            return problem.RootElement.TryGetProperty("status", out var status) && status.GetInt32() == 503 &&
                   problem.RootElement.TryGetProperty("title", out _);
        }
        catch (JsonException) { return false; }
    }

    async Task WaitUntilAsync(Func<Task<bool>> condition, string what, List<Task> load)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (load.FirstOrDefault(t => t.IsFaulted) is { } failed) await failed; // a client's exception, as it is
            Assert.True(DateTime.UtcNow < deadline, $"Waited in vain for {what}; wrong answers: {string.Join(" | ", _wrong.Take(5))}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_database is not null) await _database.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
