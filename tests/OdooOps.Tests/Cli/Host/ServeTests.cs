using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dapper;
using OdooOps.Database;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Cli.Host;

/// <summary>
/// `odooops serve` as a process: health, readiness, the embedded database's lifecycle and its single owner; a stop in the
/// middle of a build hands the build back while the server still answers, then stops the server and the database.
/// </summary>
public sealed class ServeTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"odooops-serve-{Guid.NewGuid():N}"[..32]);
    readonly List<Process> _processes = [];

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    (Process Process, StringBuilder Output) Start(params string[] args)
    {
        var p = Process.Start(CliRunner.StartInfo(args))!;
        _processes.Add(p);
        var output = new StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return (p, output);
    }

    /// <summary>What the process printed so far: its output handlers append from other threads, under the same lock.</summary>
    static string Text(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    static async Task<HttpResponseMessage> WaitForAsync(HttpClient http, string url, Process p, StringBuilder output)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"serve exited early ({p.ExitCode}): {Text(output)}");
            try { return await http.GetAsync(url); }
            catch (HttpRequestException) { await Task.Delay(200); }
        }
        throw new TimeoutException($"serve did not answer {url}: {Text(output)}");
    }

    static void Terminate(Process p) => Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();

    [Fact]
    public async Task Serves_health_on_its_embedded_database_and_stops_it_on_sigterm()
    {
        var port = FreePort();
        var (serve, output) = Start("serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", _dataDir, "--seed-demo");
        using var http = new HttpClient();
        var health = await WaitForAsync(http, $"http://127.0.0.1:{port}/healthz", serve, output);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var ready = await http.GetAsync($"http://127.0.0.1:{port}/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"ready\"", await ready.Content.ReadAsStringAsync());
        Assert.Contains("Demo password (shown once)", Text(output));
        // On loopback, missing shared secrets are generated into the data dir (0600) and the output says where.
        var secretsFile = Path.Combine(_dataDir, "secrets.env");
        Assert.Contains($"Generated OPS_INGEST_TOKEN, OPS_ADVISORY_SCAN_TOKEN into {secretsFile}", Text(output));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secretsFile));

        // A second serve on the same data dir says so and exits.
        var second = await CliRunner.RunAsync(["serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--data-dir", _dataDir]);
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("already using the data dir", second.Error);

        Terminate(serve);
        Assert.True(serve.WaitForExit(60_000), "serve did not stop on SIGTERM");
        Assert.Equal(0, serve.ExitCode);
        Assert.False(File.Exists(Path.Combine(_dataDir, "pg", "postmaster.pid")), "the embedded PostgreSQL is still running");

        // A second start reuses the data: the demo is found, not loaded again.
        var (again, againOutput) = Start("serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", _dataDir, "--seed-demo");
        Assert.Equal(HttpStatusCode.OK, (await WaitForAsync(http, $"http://127.0.0.1:{port}/readyz", again, againOutput)).StatusCode);
        Assert.Contains("already present", againOutput.ToString());
        Assert.DoesNotContain("Generated OPS_", againOutput.ToString()); // the second start reuses them
        Terminate(again);
        Assert.True(again.WaitForExit(60_000));
    }

    [Fact]
    public async Task Sigterm_during_a_build_hands_it_back_then_stops_server_and_database_within_the_step_grace()
    {
        using var repo = await TestRepository.CreateAsync();
        // The step ignores SIGTERM, so it holds out for the whole grace and is SIGKILLed: the slowest clean stop.
        await repo.CommitFilesAsync("slow", (".odooops.yml", $$"""
            steps:
              - name: slow
                run: |
                  trap '' TERM
                  sleep 600 &
                  echo "slow step running"
                  echo "uid=$(id -u)"
                  wait
            """));
        var port = FreePort();
        var (serve, output) = Start("serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", _dataDir);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await WaitForAsync(http, $"http://127.0.0.1:{port}/readyz", serve, output)).StatusCode);

        Guid build;
        int uid;
        await using (var attached = await LocalPostgres.StartOrAttachAsync(_dataDir)) // serve holds the data dir: attach to its cluster
        {
            var owner = attached.ConnectionString();
            owner.Pooling = false;
            var org = await Accounts.CreateOrgAsync(owner, "stop-org");
            var project = await Accounts.CreateProjectAsync(owner, org, "stop");
            await using var conn = await Accounts.OpenAsync(owner);
            build = await conn.ExecuteScalarAsync<Guid>("""
                update ops.projects set repo_url = @Dir where id = @project;
                insert into ops.builds (project_id, branch_id, trigger)
                select project_id, id, 'push' from ops.branches where project_id = @project and name = 'main' returning id
                """, new { repo.Dir, project });
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!await conn.ExecuteScalarAsync<bool>(
                       "select exists (select from ops.build_logs where build_id = @build and line = 'slow step running')", new { build }))
            {
                if (DateTime.UtcNow >= deadline) Assert.Fail($"the build did not start its step: {Text(output)}");
                await Task.Delay(200);
            }
            // The step runs in the build's sandbox, as the build's own uid: its processes are that uid's.
            string? line;
            while ((line = await conn.ExecuteScalarAsync<string?>(
                       "select line from ops.build_logs where build_id = @build and line like 'uid=%'", new { build })) is null)
            {
                if (DateTime.UtcNow >= deadline) Assert.Fail($"the step did not say its uid: {Text(output)}");
                await Task.Delay(200);
            }
            uid = int.Parse(line["uid=".Length..]);
        }
        Assert.NotEmpty(ProcessProbe.ProcessesOf(uid));

        // SIGTERM as systemd or docker send it; Ctrl+C sends SIGINT to the foreground group, which serve treats alike
        // (the steps and the postmaster run in sessions of their own, so the terminal's signal reaches serve alone).
        var clock = Stopwatch.StartNew();
        Terminate(serve);
        var grace = ProcessOptions.Default.KillGrace;
        var bound = grace + TimeSpan.FromSeconds(20); // margin: server, scheduler and pg_ctl stop on a loaded 2-core machine
        Assert.True(serve.WaitForExit(bound), $"serve still running {bound.TotalSeconds:0} s after SIGTERM: {Text(output)}");
        var stopped = clock.Elapsed;
        Assert.True(serve.ExitCode == 0, Text(output));
        Assert.Empty(ProcessProbe.ProcessesOf(uid)); // the step's processes did not outlive serve
        var clusterDir = Path.Combine(Path.GetFullPath(_dataDir), "pg");
        Assert.False(File.Exists(Path.Combine(clusterDir, "postmaster.pid")), "the embedded PostgreSQL is still running");
        Assert.Empty(ProcessesMentioning(clusterDir));
        Assert.DoesNotContain("heartbeat failed", Text(output));
        Assert.Contains($"Build {build} handed back: queued.", Text(output));

        // Queued again at once with its attempt not counted, as `odooops runner` hands builds back.
        await using (var again = await LocalPostgres.StartAsync(_dataDir))
        {
            var owner = again.ConnectionString();
            owner.Pooling = false;
            await using var conn = await Accounts.OpenAsync(owner);
            var row = await conn.QuerySingleAsync<(string Status, string State, int Attempts)>(
                "select b.status, q.state, q.attempts from ops.builds b join ops.run_queue q on q.build_id = b.id where b.id = @build", new { build });
            Assert.Equal(("queued", "queued", 0), row);
            Assert.True(await conn.ExecuteScalarAsync<bool>(
                "select exists (select from ops.build_logs where build_id = @build and line like 'Attempt 1 handed back by its runner%')", new { build }));
        }
        TestContext.Current.SendDiagnosticMessage($"serve stopped {stopped.TotalSeconds:0.0} s after SIGTERM (step grace {grace.TotalSeconds:0} s)");
    }

    /// <summary>Live processes whose command line names <paramref name="text"/> (e.g. a postmaster of that data dir).</summary>
    static List<int> ProcessesMentioning(string text) =>
        [.. Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ProcessProbe.IsAlive(pid) && CommandLine(pid).Contains(text, StringComparison.Ordinal))];

    static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public void Dispose()
    {
        foreach (var p in _processes)
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
