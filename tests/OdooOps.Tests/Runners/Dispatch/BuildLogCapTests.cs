using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Dispatch;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Runners.Dispatch;

/// <summary>
/// A build's log is capped on the server at OPS_BUILD_LOG_MAX_BYTES of line text and OPS_BUILD_LOG_MAX_LINES lines:
/// past either, lines are dropped, one system line marks the cut, and POST jobs/{id}/logs answers <c>cut: true</c> so
/// the runner stops sending. Here the caps are the smallest allowed (1 MiB, 1,000 lines).
/// </summary>
public sealed class BuildLogCapTests(PostgresCluster cluster) : IAsyncLifetime
{
    const long MaxBytes = 1 << 20;
    RunnerWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?>
    {
        [DispatchSettings.MaxLogBytesKey] = MaxBytes.ToString(),
        [DispatchSettings.MaxLogLinesKey] = "1000",
    });

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    static readonly string Wide = new('x', 16 * 1024);

    static LogLine[] Lines(long from, int count, string text) =>
        [.. Enumerable.Range(0, count).Select(i => new LogLine(from + i, null, "stdout", text))];

    async Task<long> StoredBytesAsync(Guid build)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<long>("select coalesce(sum(octet_length(line)), 0) from ops.build_logs where build_id = @build and stream <> 'system'", new { build });
    }

    [Fact]
    public async Task A_log_past_the_byte_cap_is_cut_with_a_system_line_and_the_answer_says_so()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync();
        var job = Assert.Single(await runner.NextAsync(1, 0, default));

        Assert.Equal(new LogsAccepted(10, false), await runner.LogsAsync(job, Lines(0, 10, Wide), default));
        // 64 lines of 16 KiB are exactly the cap: the 65th (seq 64) is the first past it.
        Assert.Equal(new LogsAccepted(54, true), await runner.LogsAsync(job, Lines(10, 100, Wide), default));
        Assert.Equal(MaxBytes, await StoredBytesAsync(build));
        var log = await _world.LogAsync(build);
        Assert.Equal(65, log.Count);
        Assert.Equal("system: The log of this build is cut at 1024 kB (OPS_BUILD_LOG_MAX_BYTES); later lines were dropped.", log[^1]);

        // The same batch again, and later lines, even small ones: nothing more is stored, and the answer stays "cut".
        Assert.Equal(new LogsAccepted(0, true), await runner.LogsAsync(job, Lines(10, 100, Wide), default));
        Assert.Equal(new LogsAccepted(0, true), await runner.LogsAsync(job, Lines(110, 5, "short"), default));
        Assert.Equal(65, (await _world.LogAsync(build)).Count);
        await runner.DoneAsync(job, "success", null, default);
        Assert.Equal("success", (await _world.BuildAsync(build)).Status);
    }

    [Fact]
    public async Task A_log_past_the_line_cap_is_cut_at_that_line_and_the_cut_outlives_a_requeue()
    {
        var build = await _world.QueueBuildAsync();
        using var runner = await _world.ClientAsync();
        var job = Assert.Single(await runner.NextAsync(1, 0, default));

        Assert.Equal(new LogsAccepted(990, false), await runner.LogsAsync(job, Lines(0, 990, "line"), default));
        Assert.Equal(new LogsAccepted(10, true), await runner.LogsAsync(job, Lines(990, 20, "line"), default));
        var log = await _world.LogAsync(build);
        Assert.Equal(1001, log.Count);
        Assert.Equal("system: The log of this build is cut at 1000 lines (OPS_BUILD_LOG_MAX_LINES); later lines were dropped.", log[^1]);

        // The runner goes away; the next attempt numbers its lines after the cut, and is told at once.
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
        {
            await conn.ExecuteAsync("update ops.run_queue set lease_until = now() - interval '1 second' where build_id = @build", new { build });
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select requeued from ops.rescue_build_leases()"));
        }
        var retry = Assert.Single(await runner.NextAsync(1, 0, default));
        Assert.Equal(new LogsAccepted(0, true), await runner.LogsAsync(retry, Lines(retry.LogSeqStart, 3, "attempt two"), default));
        Assert.DoesNotContain("stdout: attempt two", await _world.LogAsync(build));
    }

    /// <summary>Old runners and old servers: the answer's new field is ignored by a runner that does not know it, and its absence reads as not cut.</summary>
    [Fact]
    public async Task The_cut_field_keeps_old_runners_and_old_servers_working()
    {
        await _world.QueueBuildAsync();
        var registered = await _world.RegisterAsync();
        using var runner = new DispatchClient(_world.Url, registered.Token);
        var job = Assert.Single(await runner.NextAsync(1, 0, default));
        using var http = new HttpClient { BaseAddress = _world.Url };
        http.DefaultRequestHeaders.Authorization = new("Bearer", registered.Token);
        using var response = await http.PostAsJsonAsync(Logs(job.BuildId), new LogsRequest(job.LeaseId, Lines(0, 2, "x")), Json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("""{"stored":2,"cut":false}""", body);
        Assert.Equal(new OldLogsAccepted(2), JsonSerializer.Deserialize<OldLogsAccepted>(body, Json));
        Assert.Equal(new LogsAccepted(7, false), JsonSerializer.Deserialize<LogsAccepted>("""{"stored":7}""", Json));
    }

    /// <summary>The answer as runners before the cut knew it.</summary>
    sealed record OldLogsAccepted(int Stored);
}
