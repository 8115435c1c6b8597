using OdooOps.Tests.Runners.Agent.Execution;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// Runners as separate `odooops runner` processes against a real server: several compete for one queue and each build
/// runs exactly once; a runner killed with SIGKILL in the middle of a step loses the build to another runner after its
/// lease runs out (and its step's processes die with it); cancel reaches a queued build at once and a running one
/// through its runner, whose step processes are gone afterwards.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class RunnerProcessTests(PostgresCluster cluster)
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Three_runner_processes_share_100_builds_and_run_each_exactly_once()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        // Every execution of the step says so in its build's log (a sandboxed step writes nothing outside its
        // workspace): a build run twice would say it twice.
        var commit = await world.CommitPipelineAsync("""
            steps:
              - name: record
                run: echo "executed $ODOOOPS_BUILD_ID"
            """);
        var builds = await world.QueueBuildsAsync(100, "main", commit);

        var runners = new List<RunnerProcess>();
        for (var i = 1; i <= 3; i++)
            runners.Add(world.StartRunnerProcess($"proc-{i}", await world.RunnerTokenAsync($"proc-{i}", capacity: 2), capacity: 2,
                new Dictionary<string, string> { ["OPS_RUNNER_UNSANDBOXED"] = "1" }));

        await using var conn = await Accounts.OpenAsync(world.Owner);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while (await conn.ExecuteScalarAsync<int>("select count(*) from ops.builds where id = any(@builds) and finished_at is null", new { builds }) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the builds did not all finish; runner output:\n" + string.Join("\n---\n", runners.Select(r => r.Output)));
            Assert.DoesNotContain(runners, r => r.HasExited);
            await Task.Delay(250);
        }

        var rows = (await conn.QueryAsync<(string Status, int Attempt, Guid RunnerId)>(
            "select status, attempt, runner_id from ops.builds where id = any(@builds)", new { builds })).ToList();
        Assert.All(rows, r => Assert.Equal(("success", 1), (r.Status, r.Attempt)));
        Assert.Equal(3, rows.Select(r => r.RunnerId).Distinct().Count()); // all three took part

        var executed = (await conn.QueryAsync<(Guid BuildId, string Line)>(
            "select build_id, line from ops.build_logs where build_id = any(@builds) and line like 'executed %'", new { builds })).ToList();
        Assert.Equal(100, executed.Count);
        Assert.All(executed, e => Assert.Equal($"executed {e.BuildId}", e.Line));
        Assert.Equal(builds.Order(), executed.Select(e => e.BuildId).Order());
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("""
            select count(*) from (select build_id from ops.build_logs where build_id = any(@builds) and line like 'Attempt %'
                                   group by build_id having count(*) <> 1) twice
            """, new { builds }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.run_queue where build_id = any(@builds)", new { builds }));
    }

    [Fact]
    public async Task A_runner_killed_mid_step_loses_the_build_to_another_runner_and_its_step_dies_with_it()
    {
        await using var world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["OPS_RUNNER_LEASE_SECONDS"] = "3",
            ["OPS_JOB_runner_rescue"] = "* * * * * *",
        });
        // The step finishes once it can reach the test's gate, opened only after the first runner is gone: each
        // attempt runs in a sandbox of its own, so nothing else of the first attempt reaches the second.
        var gatePort = FreePort(out var host);
        var commit = await world.CommitPipelineAsync($$"""
            steps:
              - name: work
                run: |
                  if timeout 5 bash -c 'exec 3<>/dev/tcp/{{host}}/{{gatePort}}' 2>/dev/null; then echo "second attempt finishing"; exit 0; fi
                  sleep 600 &
                  echo "first attempt running as $(id -u)"
                  wait
            """);
        var build = await world.QueueBuildAsync("main", commit);

        var doomed = world.StartRunnerProcess("doomed", await world.RunnerTokenAsync("doomed"));
        string? started = null;
        await WaitUntilAsync(async () => (started = (await world.LogAsync(build)).FirstOrDefault(l => l.StartsWith("stdout: first attempt running as "))) is not null,
            "the first attempt to run");
        var uid = int.Parse(started!["stdout: first attempt running as ".Length..]);
        Assert.NotEmpty(ProcessProbe.ProcessesOf(uid));

        await doomed.KillAsync(); // SIGKILL: no goodbye to the server, no cleanup of its own
        await WaitUntilAsync(() => Task.FromResult(ProcessProbe.ProcessesOf(uid).Count == 0), "the dead runner's step to be killed", TimeSpan.FromSeconds(10));

        using var gate = new System.Net.Sockets.TcpListener(host, gatePort);
        gate.Start();
        var survivor = await world.RegisterAsync("survivor");
        world.StartRunnerProcess("survivor", survivor.Token);
        var row = await world.WaitForAsync(build, Patience);

        Assert.Equal(("success", 2, (Guid?)survivor.RunnerId), (row.Status, row.Attempt, row.RunnerId));
        var log = await world.LogAsync(build);
        int Index(string start) => log.FindIndex(l => l.StartsWith(start, StringComparison.Ordinal));
        var order = new[]
        {
            Index("system: Attempt 1 on runner doomed"), Index("stdout: first attempt running"),
            Index("system: Attempt 1 lost its runner"), Index("system: Attempt 2 on runner survivor"), Index("stdout: second attempt finishing"),
        };
        Assert.All(order, i => Assert.True(i >= 0, string.Join("\n", log)));
        Assert.Equal(order.Order(), order);
    }

    [Fact]
    public async Task A_runner_stopped_with_sigterm_gives_its_steps_their_grace_and_hands_the_build_back_at_once()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        var commit = await world.CommitPipelineAsync("""
            steps:
              - name: long
                run: |
                  trap 'echo "got TERM"; exit 1' TERM
                  sleep 600 &
                  echo "long step running as $(id -u)"
                  wait
            """);
        var build = await world.QueueBuildAsync("main", commit);
        var runner = world.StartRunnerProcess("stopped", await world.RunnerTokenAsync("stopped"));
        string? started = null;
        await WaitUntilAsync(async () => (started = (await world.LogAsync(build)).FirstOrDefault(l => l.StartsWith("stdout: long step running as "))) is not null,
            "the step to run");
        var uid = int.Parse(started!["stdout: long step running as ".Length..]);

        Assert.True(await runner.TerminateAsync(TimeSpan.FromSeconds(30)), "the runner did not stop cleanly on SIGTERM:\n" + runner.Output);
        Assert.Contains("stdout: got TERM", await world.LogAsync(build)); // the step got SIGTERM (its trap ran), not a SIGKILL
        Assert.Empty(ProcessProbe.ProcessesOf(uid));
        Assert.Contains("SIGTERM: stopping", runner.Output);
        Assert.False(Directory.Exists(Path.Combine(world.WorkDir, "stopped", "builds", build.ToString("D"))), "the workspace was cleaned up");
        // Handed back at once, the attempt not counted: the next runner runs it as attempt 1 again.
        Assert.Equal(("queued", 1), ((await world.BuildAsync(build)).Status, (await world.BuildAsync(build)).Attempt));
        Assert.Contains(await world.LogAsync(build), l => l.StartsWith("system: Attempt 1 handed back by its runner (runner stopped stopping)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_takes_a_queued_build_off_the_queue_and_stops_a_running_one_with_its_processes()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        var commit = await world.CommitPipelineAsync("""
            steps:
              - name: long
                run: |
                  sleep 600 &
                  echo "long step running as $(id -u)"
                  wait
            """);
        using var api = await world.OwnerApiAsync();

        // Queued, no runner yet: cancelled at once and never handed out.
        var queued = await world.QueueBuildAsync("main", commit);
        using (var response = await api.PostAsync($"/api/ops/builds/{queued}/cancel", null))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cancelled", (await world.BuildAsync(queued)).Status);

        var running = await world.QueueBuildAsync("main", commit);
        world.StartRunnerProcess("canceller", await world.RunnerTokenAsync("canceller"));
        string? started = null;
        await WaitUntilAsync(async () => (started = (await world.LogAsync(running)).FirstOrDefault(l => l.StartsWith("stdout: long step running as "))) is not null,
            "the step to run");
        // The step's processes are those of its sandbox's uid.
        var uid = int.Parse(started!["stdout: long step running as ".Length..]);
        Assert.NotEmpty(ProcessProbe.ProcessesOf(uid));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var response = await api.PostAsync($"/api/ops/builds/{running}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("running", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }
        var row = await world.WaitForAsync(running, TimeSpan.FromSeconds(30));
        Assert.Equal("cancelled", row.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancelled after {clock.Elapsed}");
        Assert.Empty(ProcessProbe.ProcessesOf(uid)); // the step's background process is gone
        Assert.Equal("cancelled", Assert.Single(await world.StepsAsync(running)).Status);

        Assert.Equal("cancelled", (await world.BuildAsync(queued)).Status); // the queued one stayed off the runner
        Assert.DoesNotContain(await world.LogAsync(queued), l => l.StartsWith("system: Attempt", StringComparison.Ordinal));
    }

    /// <summary>A port of this host's outside address that nothing listens on yet (a sandboxed step's connect is refused).</summary>
    static int FreePort(out System.Net.IPAddress host)
    {
        host = ProcessProbe.ExternalAddress();
        var probe = new System.Net.Sockets.TcpListener(host, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>A live process (a zombie awaiting its parent counts as gone).</summary>
    internal static bool IsAlive(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for {what}.");
            await Task.Delay(100);
        }
    }
}
