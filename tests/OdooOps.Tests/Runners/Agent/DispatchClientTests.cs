using System.Net;
using Dapper;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// The runner's client against a real server through a network that fails on purpose: reporting calls survive
/// transient failures (no answer, 5xx) by trying again, waiting at least the Retry-After a 503 asks for (capped), a
/// refusal (4xx) is not retried, and a call that hangs ends at its timeout. Plus the `odooops runner` verb's own start-up: registration once, bad options refused in one line.
/// </summary>
public sealed class DispatchClientTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    /// <summary>Answers the first <see cref="Failures"/> calls whose path ends with <see cref="PathEnd"/> itself, then passes calls on.</summary>
    sealed class FlakyNetwork(string pathEnd, int failures, Func<HttpResponseMessage?> failure, bool hang = false) : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Calls;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith(pathEnd, StringComparison.Ordinal) && Interlocked.Increment(ref Calls) <= failures)
            {
                if (hang) await Task.Delay(Timeout.Infinite, ct); // a server that never answers
                return failure() ?? throw new HttpRequestException("connection reset (simulated)");
            }
            return await base.SendAsync(request, ct);
        }
    }

    async Task<(DispatchClient Client, RunnerProtocol.Job Job)> ClaimWithAsync(FlakyNetwork network, TimeSpan? callTimeout = null,
        TimeSpan? longestRetryDelay = null)
    {
        var build = await _world.QueueBuildAsync();
        var client = new DispatchClient(_world.Url, await _world.RunnerTokenAsync(), network)
        {
            RetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50), longestRetryDelay ?? TimeSpan.FromMilliseconds(50)],
            CallTimeout = callTimeout ?? TimeSpan.FromSeconds(15),
        };
        var job = Assert.Single(await client.NextAsync(1, 0, default));
        Assert.Equal(build, job.BuildId);
        return (client, job);
    }

    [Fact]
    public async Task A_result_is_reported_through_dropped_connections_and_server_errors()
    {
        var network = new FlakyNetwork("/done", 2, () => null); // null: the connection drops
        var (client, job) = await ClaimWithAsync(network);
        using (client) await client.DoneAsync(job, "success", null, default);
        Assert.Equal(3, network.Calls);
        Assert.Equal("success", (await _world.BuildAsync(job.BuildId)).Status);

        var errors = new FlakyNetwork("/done", 3, () => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        var (second, next) = await ClaimWithAsync(errors);
        using (second) await second.DoneAsync(next, "failed", "step x", default);
        Assert.Equal(4, errors.Calls);
        Assert.Equal("failed", (await _world.BuildAsync(next.BuildId)).Status);
    }

    [Fact]
    public async Task A_refusal_is_not_retried_and_endless_failures_give_up()
    {
        var refused = new FlakyNetwork("/done", 10, () => new HttpResponseMessage(HttpStatusCode.BadRequest));
        var (client, job) = await ClaimWithAsync(refused);
        using (client)
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.DoneAsync(job, "success", null, default));
            Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        }
        Assert.Equal(1, refused.Calls);

        var down = new FlakyNetwork("/steps/0", 100, () => new HttpResponseMessage(HttpStatusCode.BadGateway));
        var (other, next) = await ClaimWithAsync(down);
        using (other)
            await Assert.ThrowsAsync<HttpRequestException>(() => other.StepAsync(next, 0, new RunnerProtocol.StepRequest(null, "s", "running", null, null, null), default));
        Assert.Equal(4, down.Calls); // one try and three retries
        Assert.Equal("running", (await _world.BuildAsync(next.BuildId)).Status); // left to the rescuer
    }

    [Fact]
    public async Task A_503_with_retry_after_is_retried_no_sooner_than_asked_and_a_huge_wait_is_capped()
    {
        HttpResponseMessage Busy(int seconds) => new(HttpStatusCode.ServiceUnavailable) { Headers = { RetryAfter = new(TimeSpan.FromSeconds(seconds)) } };
        // The client's own waits are 50 ms, 50 ms, 3 s: a Retry-After beyond its longest wait is cut down to that.
        var busy = new FlakyNetwork("/done", 2, () => Busy(1));
        var (client, job) = await ClaimWithAsync(busy, longestRetryDelay: TimeSpan.FromSeconds(3));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (client) await client.DoneAsync(job, "success", null, default);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"retried after {clock.Elapsed}, not after the 2 × 1 s asked");
        Assert.Equal(3, busy.Calls);

        // An hour asked: the wait is capped at the client's longest (3 s here, 15 s by default).
        var hour = new FlakyNetwork("/done", 1, () => Busy(3600));
        var (other, next) = await ClaimWithAsync(hour, longestRetryDelay: TimeSpan.FromSeconds(3));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using (other) await other.DoneAsync(next, "failed", null, patience.Token);
        Assert.Equal("failed", (await _world.BuildAsync(next.BuildId)).Status);
    }

    [Fact]
    public async Task A_call_that_hangs_ends_at_its_timeout()
    {
        var hanging = new FlakyNetwork("/extend", 1, () => null, hang: true);
        var (client, job) = await ClaimWithAsync(hanging, TimeSpan.FromSeconds(1));
        using (client)
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.ExtendAsync(job, default));
            Assert.Contains("no answer within 1 s", e.Message);
            Assert.False((await client.ExtendAsync(job, default)).CancelRequested); // the next heartbeat goes through
        }
    }

    [Fact]
    public async Task The_runner_verb_registers_once_and_reuses_its_saved_token()
    {
        var registration = await _world.RegistrationTokenAsync();
        var workDir = Path.Combine(_world.WorkDir, "verb");
        string[] args = ["--url", _world.Url.ToString(), "--token", registration, "--work-dir", workDir, "--name", "verb-runner"];

        var first = _world.StartRunnerProcess(args);
        await WaitForOutputAsync(first, "Registered as runner");
        first.Dispose();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(workDir, "runner-token")));

        var second = _world.StartRunnerProcess(args); // the same service definition, started again
        await WaitForOutputAsync(second, "Already registered");
        await WaitForOutputAsync(second, "Runner verb-runner serving");
        second.Dispose();

        await using var conn = await Accounts.OpenAsync(_world.Owner);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from ops.runners where name = 'verb-runner'"));
    }

    [Theory]
    [InlineData("--url|ftp://example.com|--token|oo_run_x", "--url")]
    [InlineData("--url|http://127.0.0.1:9|--token|oo_pat_x", "--token must be a runner token")]
    [InlineData("--url|http://127.0.0.1:9|--token|oo_run_x|--capacity|0", "--capacity")]
    [InlineData("--url|http://127.0.0.1:9|--token|oo_run_x|--step-user|no-such-user-here", "No OS user 'no-such-user-here'")]
    public async Task Bad_runner_options_exit_non_zero_with_one_line(string arguments, string message)
    {
        var result = await CliRunner.RunAsync(["runner", .. arguments.Split('|'), "--work-dir", Path.Combine(_world.WorkDir, "bad")]);
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line);
    }

    static async Task WaitForOutputAsync(RunnerProcess process, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!process.Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || process.HasExited) throw new TimeoutException($"no \"{text}\" in:\n{process.Output}");
            await Task.Delay(100);
        }
    }
}
