using System.Net;
using System.Net.Sockets;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent.Sandbox;

/// <summary>
/// Attacks a tenant's step could try, run for real in bubblewrap sandboxes as the runner (root) makes them: each must
/// fail to get through. The "platform" here is this test process, a data dir beside the work dir and a second build.
/// </summary>
// Builds that exhaust their memory and process limits keep both cores busy: with the heavy tests, alone.
[Collection(HeavyTests.Name)]
public sealed class BuildSandboxTests : IAsyncDisposable
{
    readonly string _dir = ProcessProbe.NewTempDir("odooops-sandbox");
    readonly LineRecorder _recorder = new();
    readonly List<BuildSandbox> _sandboxes = [];
    readonly SandboxSettings _settings;

    public BuildSandboxTests()
    {
        _settings = new SandboxSettings { LockDirectory = Path.Combine(_dir, "locks"), MemoryBytes = 96L << 20, MaxProcesses = 64 };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sandbox in _sandboxes) await sandbox.EndAsync();
        WorkspaceFolder.Delete(_dir);
    }

    string WorkDir => Path.Combine(_dir, "work");

    async Task<(BuildSandbox Sandbox, string Workspace)> NewBuildAsync()
    {
        var id = Guid.NewGuid();
        var sandbox = await BuildSandbox.CreateAsync(_settings, new SandboxUids(_settings), WorkDir, id, TestContext.Current.CancellationToken);
        _sandboxes.Add(sandbox);
        var workspace = Directory.CreateDirectory(Path.Combine(WorkDir, "builds", id.ToString("D"))).FullName;
        await sandbox.OwnAsync(workspace, TestContext.Current.CancellationToken);
        return (sandbox, workspace);
    }

    async Task<StepResult> RunAsync(BuildSandbox sandbox, string workspace, string script, bool network = true,
        IReadOnlyDictionary<string, string>? env = null, LineRecorder? recorder = null)
    {
        var options = ProcessOptions.Default with
        {
            KillGrace = TimeSpan.FromSeconds(1), Sandbox = sandbox.Run(workspace, network),
        };
        return await StepProcess.RunAsync(new StepCommand(script, workspace) { Environment = env, Timeout = TimeSpan.FromMinutes(2) },
            (recorder ?? _recorder).Add, options, TestContext.Current.CancellationToken);
    }

    string Output() => string.Join("\n", _recorder.Texts().Concat(_recorder.Texts(LogStream.Stderr)));

    [Fact]
    public async Task A_step_runs_as_the_builds_own_uid_with_its_variables_only()
    {
        Environment.SetEnvironmentVariable("OPS_SANDBOX_TEST_PLATFORM_SECRET", "platform-secret");
        var (sandbox, workspace) = await NewBuildAsync();
        var result = await RunAsync(sandbox, workspace,
            "id -u; echo \"home=$HOME\"; touch mine && echo wrote; env | sort; cat /proc/self/status | grep NoNewPrivs",
            env: new Dictionary<string, string> { ["MY_VAR"] = "mine", ["PATH"] = $"{workspace}/evil:/usr/bin:/bin" });
        Assert.True(result.Succeeded, Output());
        var lines = _recorder.Texts();
        Assert.Equal(sandbox.Uid.ToString(), lines[0]);
        Assert.InRange(sandbox.Uid, _settings.FirstUid, _settings.FirstUid + _settings.UidCount - 1);
        Assert.Contains("home=/home/odooops", lines);
        Assert.Contains("wrote", lines);
        Assert.Contains("MY_VAR=mine", lines);
        Assert.Contains(lines, l => l.StartsWith("NoNewPrivs:") && l.EndsWith('1'));
        Assert.DoesNotContain(lines, l => l.Contains("platform-secret") || l.StartsWith("OPS_"));
    }

    [Fact]
    public async Task A_step_sees_nothing_of_the_platform_nor_of_another_build()
    {
        var dataDir = Directory.CreateDirectory(Path.Combine(_dir, "data")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dataDir, "pg-password"), "cluster-password");
        var token = Path.Combine(WorkDir, "runner-token");
        Directory.CreateDirectory(WorkDir);
        await File.WriteAllTextAsync(token, "oo_run_secret");
        var (other, otherWorkspace) = await NewBuildAsync();
        await File.WriteAllTextAsync(Path.Combine(otherWorkspace, "their-code.py"), "secret = 1");
        var (sandbox, workspace) = await NewBuildAsync();
        var self = Environment.ProcessId;
        // An operator's settings in /etc (a unit's registration token, serve's certificate) and what /opt holds.
        var unit = $"/etc/odooops-sandbox-test-{Guid.NewGuid():N}.service";
        await File.WriteAllTextAsync(unit, "Environment=ODOOOPS_RUNNER_TOKEN=oo_reg_leak");
        Directory.CreateDirectory("/opt/odooops-sandbox-test");

        var result = await RunAsync(sandbox, workspace, string.Join("\n",
            $"cat /proc/{self}/environ /proc/{self}/cmdline 2>/dev/null && echo LEAK-proc || true",
            $"cat '{dataDir}/pg-password' 2>/dev/null && echo LEAK-data || true",
            $"cat '{token}' 2>/dev/null && echo LEAK-token || true",
            $"ls '{otherWorkspace}' 2>/dev/null && echo LEAK-workspace || true",
            "ps -e -o pid=,comm= | wc -l | sed 's/^/processes=/'",
            "touch /usr/evil 2>/dev/null && echo LEAK-write || true",
            $"cat '{unit}' 2>/dev/null && echo LEAK-etc || true",
            "ls /opt 2>/dev/null | grep -q odooops-sandbox-test && echo LEAK-opt || true",
            "test -r /etc/ssl/certs/ca-certificates.crt && echo certificates-readable"));
        File.Delete(unit);
        Directory.Delete("/opt/odooops-sandbox-test");
        Assert.True(result.Succeeded, Output());
        Assert.DoesNotContain("LEAK", Output());
        Assert.Contains("certificates-readable", _recorder.Texts()); // what programs need of /etc is there
        // Its own PID namespace: bubblewrap's init, bash, ps, wc and sed at most.
        Assert.Contains(_recorder.Texts(), l => l.StartsWith("processes=") && int.Parse(l["processes=".Length..]) <= 6);
        Assert.NotEqual(other.Uid, sandbox.Uid);
    }

    [Fact]
    public async Task Processes_left_behind_by_setsid_or_a_double_fork_die_with_the_step()
    {
        var (sandbox, workspace) = await NewBuildAsync();
        var result = await RunAsync(sandbox, workspace, "setsid sleep 1000 & (sleep 1001 &) & nohup sleep 1002 >/dev/null 2>&1 & echo started");
        Assert.True(result.Succeeded, Output());
        await ProcessProbe.WaitUntilAsync(() => ProcessProbe.ProcessesOf(sandbox.Uid).Count == 0, TimeSpan.FromSeconds(30),
            () => $"still running as uid {sandbox.Uid}: {string.Join(", ", ProcessProbe.ProcessesOf(sandbox.Uid))}");
    }

    [Fact]
    public async Task The_hosts_loopback_is_out_of_reach_and_outbound_access_follows_the_switch()
    {
        using var loopback = Listen(IPAddress.Loopback);
        var external = ProcessProbe.ExternalAddress();
        using var outside = Listen(external);
        var loopbackPort = ((IPEndPoint)loopback.LocalEndpoint).Port;
        var outsidePort = ((IPEndPoint)outside.LocalEndpoint).Port;
        string Probe(string host, int port, string name) =>
            $"timeout 5 bash -c 'exec 3<>/dev/tcp/{host}/{port}' 2>/dev/null && echo {name}-reached || echo {name}-refused";
        var script = string.Join("\n", Probe("127.0.0.1", loopbackPort, "loopback"), Probe("10.0.2.2", loopbackPort, "gateway"),
            Probe(external.ToString(), outsidePort, "outside"));

        var (sandbox, workspace) = await NewBuildAsync();
        Assert.True((await RunAsync(sandbox, workspace, script)).Succeeded, Output());
        Assert.Equal(["loopback-refused", "gateway-refused", "outside-reached"], _recorder.Texts());

        var cut = new LineRecorder();
        Assert.True((await RunAsync(sandbox, workspace, script, network: false, recorder: cut)).Succeeded);
        Assert.Equal(["loopback-refused", "gateway-refused", "outside-refused"], cut.Texts());
    }

    [Fact]
    public async Task The_uids_kernel_keyring_is_out_of_reach_so_nothing_is_left_for_a_later_build_of_that_uid()
    {
        var (sandbox, workspace) = await NewBuildAsync();
        // add_key(2) into the user keyring, which belongs to the uid and outlives the build.
        var result = await RunAsync(sandbox, workspace, """
            python3 -c '
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            nr = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
            r = libc.syscall(nr, b"user", b"left-behind", b"secret", 6, ctypes.c_long(-4))
            print("add_key", r, ctypes.get_errno())'
            """);
        Assert.True(result.Succeeded, Output());
        Assert.Equal(["add_key -1 1"], _recorder.Texts()); // EPERM
    }

    [Fact]
    public async Task A_memory_hog_is_killed_and_the_reason_named()
    {
        var (sandbox, workspace) = await NewBuildAsync();
        var before = sandbox.Counters();
        var result = await RunAsync(sandbox, workspace, "python3 -c \"b = b'x' * (512 << 20); print(len(b))\"");
        Assert.False(result.Succeeded);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("killed for memory: the build's limit of 96 MiB was reached", sandbox.LimitReached(before));
    }

    [Fact]
    public async Task A_fork_bomb_hits_the_process_limit_and_the_sandbox_still_works_after()
    {
        var (sandbox, workspace) = await NewBuildAsync();
        var before = sandbox.Counters();
        var result = await RunAsync(sandbox, workspace, "for i in $(seq 1 1000); do sleep 1000 & done");
        Assert.False(result.Succeeded);
        Assert.Equal("the build's limit of 64 processes was reached", sandbox.LimitReached(before));

        var next = new LineRecorder();
        Assert.True((await RunAsync(sandbox, workspace, "echo still-fine", recorder: next)).Succeeded);
        Assert.Equal(["still-fine"], next.Texts());
    }

    static TcpListener Listen(IPAddress address)
    {
        var listener = new TcpListener(address, 0);
        listener.Start();
        return listener;
    }
}
