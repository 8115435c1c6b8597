using Dapper;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Dispatch;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// A step that prints 16 KiB lines in a tight loop while the server takes no log lines, run by the real runner agent
/// against a real server: the runner's log queue stays at its bound (measured by what its batcher held, not by the
/// process's RSS, so that it is deterministic), the lines past it are dropped and counted, and once the server takes
/// lines again it cuts the log at OPS_BUILD_LOG_MAX_BYTES and answers so: the runner sends nothing more, and the build
/// ends with the cut in its log.
/// </summary>
public sealed class RunnerLogBoundTests(PostgresCluster cluster)
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>Holds the runner's log calls until <see cref="Open"/>; counts those sent after a "cut" answer.</summary>
    sealed class LogGate() : DelegatingHandler(new SocketsHttpHandler())
    {
        readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        volatile bool _cut;
        int _afterCut;

        public int CallsAfterCut => Volatile.Read(ref _afterCut);
        public bool SawCut => _cut;
        public void Open() => _open.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (!request.RequestUri!.AbsolutePath.EndsWith("/logs", StringComparison.Ordinal)) return await base.SendAsync(request, ct);
            if (_cut) Interlocked.Increment(ref _afterCut);
            await _open.Task.WaitAsync(ct); // a server that does not take log lines yet
            var response = await base.SendAsync(request, ct);
            await response.Content.LoadIntoBufferAsync(ct);
            if ((await response.Content.ReadAsStringAsync(ct)).Contains("\"cut\":true", StringComparison.Ordinal)) _cut = true;
            return response;
        }
    }

    static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"waited in vain for {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_step_flooding_its_log_while_the_server_is_slow_leaves_the_runners_queue_flat_and_the_build_ends_cut()
    {
        await using var world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?> { [DispatchSettings.MaxLogBytesKey] = $"{1 << 20}" });
        var gate = new LogGate();
        var meter = new LogQueueMeter();
        using var stop = new CancellationTokenSource();
        var runner = await world.StartRunnerAsync(stop.Token, handler: gate, logQueue: meter);
        try
        {
            // 3,000 lines of 16,384 characters (48 MiB); the runner holds at most 8 MiB of text: 256 such lines.
            var commit = await world.CommitPipelineAsync("""
                steps:
                  - name: flood
                    run: |
                      line=$(head -c 16384 /dev/zero | tr '\0' x)
                      for i in $(seq 3000); do printf '%s\n' "$line"; done
                """);
            var build = await world.QueueBuildAsync("main", commit);
            await WaitUntilAsync(() => meter.DroppedLines >= 2_000, "the runner to drop the lines past its bound");
            gate.Open();
            var row = await world.WaitForAsync(build, Patience);

            Assert.Equal("success", row.Status);
            var bound = new LogBatcherOptions();
            Assert.True(meter.PeakHeldBytes <= bound.MaxHeldBytes + bound.MaxHeldBytes / 8, $"held {meter.PeakHeldBytes} bytes at most"); // its own lines' reserve
            Assert.True(meter.PeakHeldLines <= 300, $"held {meter.PeakHeldLines} lines at most");
            Assert.InRange(meter.DroppedLines, 2_000, 3_000);
            Assert.Equal(1, meter.Cuts);
            Assert.True(gate.SawCut);
            Assert.Equal(0, gate.CallsAfterCut); // told the log is cut, the runner sent nothing more

            var log = await world.LogAsync(build);
            Assert.Equal("system: The log of this build is cut at 1024 kB (OPS_BUILD_LOG_MAX_BYTES); later lines were dropped.", log[^1]);
            Assert.Contains(log, l => l.StartsWith("stdout: xxxx", StringComparison.Ordinal));
            await using var conn = await Accounts.OpenAsync(world.Owner);
            Assert.True(await conn.ExecuteScalarAsync<long>("select sum(octet_length(line)) from ops.build_logs where build_id = @build", new { build }) <= (1 << 20) + 200);
        }
        finally
        {
            await stop.CancelAsync();
            await runner;
        }
    }
}
