using System.Globalization;
using System.Net;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The stand-in odoo-bin's processes: Odoo's prefork tree (workers, cron workers, the gevent process) and its end on
/// SIGTERM, the start controls tests use to make an instance misbehave, and a run as a uid without a passwd entry on a
/// read-only root, as an instance runs in its sandbox.
/// </summary>
public sealed class OdooStandInProcessTests(PostgresCluster cluster) : IAsyncLifetime
{
    StandInWorld _world = null!;
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async ValueTask InitializeAsync() => _world = await StandInWorld.CreateAsync(cluster);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _world.DisposeAsync();
    }

    async Task<JsonElement> InfoAsync(int port) =>
        JsonDocument.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/standin/info")).RootElement;

    static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    [Fact]
    public async Task Workers_fork_odoos_process_tree_a_dead_worker_is_reforked_and_sigterm_ends_it_all()
    {
        var (port, gevent) = (StandInWorld.FreePort(), StandInWorld.FreePort());
        var master = _world.Start(["-d", StandInWorld.NewDatabase(), "-D", _world.DataDir, "-p", port.ToString(), "--gevent-port", gevent.ToString(),
            "--workers", "2", "--max-cron-threads", "1", "--limit-time-real", "60"]);
        await StandInWorld.WaitHealthyAsync(_http, master, port);
        await StandInWorld.WaitHealthyAsync(_http, master, gevent);
        // 2 HTTP workers + 1 cron worker + the gevent process (odoo-bin gevent …, as Odoo 16+ starts it).
        await ProcessProbe.WaitUntilAsync(() => ProcessProbe.ChildrenOf(master.Pid).Count == 4, Patience,
            () => $"children: {string.Join(", ", ProcessProbe.ChildrenOf(master.Pid).Select(CommandLine))}");
        var children = ProcessProbe.ChildrenOf(master.Pid);
        Assert.Single(children, c => CommandLine(c).Contains(" gevent ", StringComparison.Ordinal));
        var workers = children.Where(c => !CommandLine(c).Contains(" gevent ", StringComparison.Ordinal)).ToList();

        var info = await InfoAsync(port);
        Assert.Contains(info.GetProperty("pid").GetInt32(), workers);
        Assert.Equal(2, info.GetProperty("workers").GetInt32());
        Assert.Equal(_world.Release, info.GetProperty("release").GetString()); // no ODOOOPS_BUILD_ID: the working directory
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync($"http://127.0.0.1:{port}/websocket")).StatusCode);
        Assert.Equal("on the gevent port", await StandInWorld.EchoAsync(gevent, "on the gevent port"));
        Assert.Contains(master.Log, l => l.EndsWith($" odoo.service.server: Evented Service (longpolling) running on 0.0.0.0:{gevent} ", StringComparison.Ordinal));

        var victim = workers[0];
        StandInProcess.Signal(victim, "KILL");
        await ProcessProbe.WaitUntilAsync(() => ProcessProbe.ChildrenOf(master.Pid) is { Count: 4 } now && !now.Contains(victim), Patience,
            () => $"not re-forked: {string.Join(", ", ProcessProbe.ChildrenOf(master.Pid))}");
        await StandInWorld.WaitHealthyAsync(_http, master, port);

        var tree = ProcessProbe.ChildrenOf(master.Pid);
        StandInProcess.Signal(master.Pid, "TERM");
        Assert.Equal(0, await master.WaitForExitAsync());
        await ProcessProbe.WaitUntilGoneAsync(tree, Patience);
        Assert.Contains(master.Log, l => l.EndsWith($" {master.Pid} INFO ? odoo.service.server: Initiating shutdown ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_controls_fail_the_start_delay_it_crash_later_and_hold_memory()
    {
        var env = _world.Env();
        env["STANDIN_FAIL_START"] = "1";
        var port = StandInWorld.FreePort();
        var (code, run) = await _world.RunAsync(["-d", StandInWorld.NewDatabase(), "-D", _world.DataDir, "-p", port.ToString()], env);
        Assert.Equal(1, code);
        Assert.Contains(run.Log, l => l.Contains(" CRITICAL ? odoo.service.server: standin: failing at start as told", StringComparison.Ordinal));

        // From the release's standin.json: a delay before listening, memory held, a crash a second after serving.
        await File.WriteAllTextAsync(Path.Combine(_world.Release, "standin.json"),
            """{"STANDIN_START_DELAY_MS": 1500, "STANDIN_MEMORY_MB": 64, "STANDIN_CRASH_AFTER_SECONDS": 1}""");
        var server = _world.Start(["-d", StandInWorld.NewDatabase(), "-D", _world.DataDir, "-p", port.ToString()]);
        var held = await server.WaitForLineAsync(l => l.Contains(" odoo.standin: holding 64 MB", StringComparison.Ordinal), "the memory line");
        var rss = File.ReadLines($"/proc/{server.Pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        Assert.True(rss is not null && long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) >= 64 * 1024, rss);
        Assert.Equal(1, await server.WaitForExitAsync());
        Assert.Contains(server.Log, l => l.Contains(" CRITICAL ? odoo.service.server: standin: crashing as told (STANDIN_CRASH_AFTER_SECONDS)", StringComparison.Ordinal));
        var loaded = Stamp(server.Log.First(l => l.Contains(" odoo.modules.registry: Registry loaded", StringComparison.Ordinal)));
        var listening = Stamp(server.Log.First(l => l.Contains(" HTTP service (werkzeug) running on", StringComparison.Ordinal)));
        Assert.True(listening - loaded >= TimeSpan.FromMilliseconds(1500), $"{loaded:O} → {listening:O}");
        Assert.NotNull(held);
    }

    static DateTime Stamp(string line) =>
        DateTime.ParseExact(OdooStandIn.LogLine.Match(line).Groups["date"].Value, "yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Runs_as_a_uid_without_a_passwd_entry_on_a_read_only_root_writing_only_its_data_dir()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/bwrap")) Assert.Skip("needs root and bubblewrap, as a runner has");
        const int Uid = 900_000_123;
        var data = Directory.CreateDirectory(Path.Combine(_world.Root, "instance-data")).FullName;
        File.SetUnixFileMode(data, (UnixFileMode)0b111_111_111);
        var env = _world.Env(overSocket: true);
        env["HOME"] = "/home/odooops"; // does not exist, as in the sandbox
        var (db, port) = (StandInWorld.NewDatabase(), StandInWorld.FreePort());

        // As the instance sandbox runs it: everything read-only but the data dir; a uid no passwd file names.
        var process = StandInProcess.Start("/usr/bin/bwrap", ["--ro-bind", "/", "/", "--bind", data, data, "--chdir", _world.Release, "--",
            "/usr/bin/setpriv", $"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "--",
            _world.OdooBin, "-d", db, "-D", data, "-i", "base", "-p", port.ToString(), "--http-interface", "127.0.0.1"], env, _world.Release);
        await using var _ = process;
        await StandInWorld.WaitHealthyAsync(_http, process, port);

        var info = await InfoAsync(port);
        Assert.Equal(Uid, info.GetProperty("uid").GetInt32());
        Assert.Equal(db, info.GetProperty("database").GetString());
        Assert.DoesNotContain("Traceback", process.Output);
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(data, "filestore", db), "*", SearchOption.AllDirectories));
    }
}
