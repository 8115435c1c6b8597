using Dapper;

namespace OdooOps.Bench;

/// <summary>
/// Issue 12's instance targets, measured with the stand-in odoo-bin in real sandboxes (needs root), serve's proxy
/// in-process, every supervision setting at its default:
///   1. a production deploy's downtime, as a client polling the branch's host name through the proxy every ~20 ms sees it
///      (the old release's last good answer → the new one's first), p50/max over N deploys, beside what the server
///      records (ops.instances.downtime_ms: the old server's stop → the new one's first good health check);
///   2. a development branch deployed N times while a client asks its host name continuously: failed requests during
///      the switches (target: none);
///   3. one runner host (`odooops runner`, the real binary, a separate process) supervising M instances at idle: its
///      CPU and memory (<see cref="InstanceIdleBench"/>).
/// Each part's deploys are real builds (checkout, the Odoo step updating the module whose version changed, the release).
/// </summary>
public static class InstanceBench
{
    public static async Task<int> RunAsync(BenchOptions o, string[] args)
    {
        if (!Environment.IsPrivilegedProcess) { Console.Error.WriteLine("instances: run as root (instances run in the sandbox)."); return 2; }
        var parts = Option(args, "--parts", "1,2,3").Split(',');
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs, " +
                          $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes >> 30} GiB; run on a quiet machine)");
        await using var world = await InstanceBenchWorld.StartAsync();
        Console.WriteLine($"serve {world.Url}, stand-in {world.OdooBin}, work dir {world.Dir}");
        if (parts.Contains("1") || parts.Contains("2"))
        {
            var project = await world.CreateProjectAsync("bench", 5, ("main", "production"), ("feature", "development"));
            await world.StartRunnerAsync("host-1", capacity: 1, instances: 20);
            if (parts.Contains("1")) await ProductionAsync(world, project, o.Deploys);
            if (parts.Contains("2")) await DevelopmentAsync(world, project, o.Deploys);
            await world.StopRunnersAsync();
        }
        if (parts.Contains("3"))
        {
            var idle = int.Parse(Option(args, "--idle-seconds", "60"));
            // --runner-env NAME=VALUE (repeatable): the runner process's environment, for experiments (e.g. DOTNET_gcServer=0).
            var env = args.Select((a, i) => (a, i)).Where(x => x.a == "--runner-env" && x.i + 1 < args.Length)
                .Select(x => args[x.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.ElementAtOrDefault(1) ?? "");
            await InstanceIdleBench.RunAsync(world, new InstanceIdleBench.Settings(o.Instances, idle, int.Parse(Option(args, "--baseline-seconds", idle.ToString())),
                int.Parse(Option(args, "--build-capacity", "2")), env));
        }
        return 0;
    }

    static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Part 1: production deploys, each a commit that raises the module's version (so the update runs).</summary>
    static async Task ProductionAsync(InstanceBenchWorld world, Guid project, int deploys)
    {
        Console.WriteLine();
        Console.WriteLine($"== 1. production deploy downtime: {deploys} deploys of main, main.bench.localhost polled every 20 ms through serve's proxy");
        var current = await FirstDeployAsync(world, project, "main");
        var figures = new List<(double Client, long Server, double BuildMs)>();
        Console.WriteLine("  ms: client = last good answer of the old release → first of the new; server = ops.instances.downtime_ms (old stopped_at → new ready_at);");
        Console.WriteLine("      then the client's downtime in steps: last old answer → SIGTERM (the old server's 'Initiating shutdown' line) → old stopped_at");
        Console.WriteLine("      (the runner's report: its whole tree and sandbox gone) → new started_at (the update ran between) → the new server listening");
        Console.WriteLine("      (its 'HTTP service (werkzeug) running' line) → new ready_at (its first good health check) → first new answer through the proxy");
        Console.WriteLine($"  {"#",3} {"build",6} {"client",7} {"server",7} | {"→SIGTERM",8} {"→stopped",8} {"→started",8} {"→listening",10} {"→ready",7} {"→answer",7} | {"failed/asked",12}");
        for (var i = 1; i <= deploys; i++)
        {
            var sha = await world.Repo.CommitFilesAsync($"release {i}", InstanceBenchWorld.Manifest("sale_extra", $"19.0.1.{i}.0"));
            await using var poller = new HostPoller(world.Url, "main.bench.localhost", TimeSpan.FromMilliseconds(20));
            await WaitAsync(() => Task.FromResult(poller.Saw(current.ToString())), TimeSpan.FromSeconds(30), "the current release to answer");
            var started = DateTime.UtcNow;
            var build = await world.QueueBuildAsync(project, "main", sha);
            var row = await world.WaitForInstanceAsync(build, r => r.State == "running" && r.DowntimeMs is not null, BuildTimeout);
            await WaitAsync(() => Task.FromResult(poller.Saw(build.ToString())), TimeSpan.FromSeconds(60), "the new release to answer through the proxy");
            await Task.Delay(200);
            await poller.DisposeAsync();
            var answers = poller.Answers;
            var lastOld = answers.Where(a => a.Good && a.Release == current.ToString()).Max(a => a.At);
            var firstNew = answers.Where(a => a.Good && a.Release == build.ToString()).Min(a => a.At);
            var old = (await world.InstanceOfAsync(current))!;
            var sigterm = await world.LoggedAsync(old.Id, "%Initiating shutdown%", started) ?? lastOld;
            var listening = await world.LoggedAsync(row.Id, "%HTTP service (werkzeug) running on%", started);
            var client = (firstNew - lastOld).TotalMilliseconds;
            var buildMs = await BuildMsAsync(world, build);
            figures.Add((client, row.DowntimeMs!.Value, buildMs));
            static string Ms(DateTime? from, DateTime? to) => from is null || to is null ? "?" : $"{(to.Value - from.Value).TotalMilliseconds:F0}";
            Console.WriteLine($"  {i,3} {buildMs,6:F0} {client,7:F0} {row.DowntimeMs,7} | {Ms(lastOld, sigterm),8} {Ms(sigterm, old.StoppedAt),8} " +
                              $"{Ms(old.StoppedAt, row.StartedAt),8} {Ms(row.StartedAt, listening),10} {Ms(listening, row.ReadyAt),7} {Ms(row.ReadyAt, firstNew),7} | " +
                              $"{$"{answers.Count(a => !a.Good)}/{answers.Count}",12}");
            current = build;
        }
        var clients = new Latencies(figures.Select(f => f.Client));
        var server = new Latencies(figures.Select(f => (double)f.Server));
        Console.WriteLine();
        Console.WriteLine($"  {"downtime over " + deploys + " deploys",-34} {"p50",9} {"max",9}");
        Console.WriteLine($"  {"client (last old → first new)",-34} {clients.Percentile(50),9:F0} {clients.Percentile(100),9:F0} ms");
        Console.WriteLine($"  {"server (ops.instances.downtime_ms)",-34} {server.Percentile(50),9:F0} {server.Percentile(100),9:F0} ms");
        Console.WriteLine($"  {"build (claim → result)",-34} {new Latencies(figures.Select(f => f.BuildMs)).Percentile(50),9:F0} {figures.Max(f => f.BuildMs),9:F0} ms");
    }

    /// <summary>Part 2: a development branch deployed again and again while a client keeps asking its host name.</summary>
    static async Task DevelopmentAsync(InstanceBenchWorld world, Guid project, int deploys)
    {
        Console.WriteLine();
        Console.WriteLine($"== 2. development switch: {deploys} deploys of feature, feature.bench.localhost asked continuously (5 ms between answers)");
        await world.Repo.GitAsync("branch", "-f", "feature", "main");
        var current = await FirstDeployAsync(world, project, "feature");
        var totals = (Failed: 0, Asked: 0);
        var failures = new Dictionary<string, int>();
        Console.WriteLine("  ms: switch = last answer of the old release → first of the new; failed requests: which instance the proxy sent them to");
        Console.WriteLine("      (proxy log) and when, from the old server's SIGTERM ('Initiating shutdown' line)");
        Console.WriteLine($"  {"#",3} {"build",6} {"switch",7} {"failed/asked",13}  failures");
        for (var i = 1; i <= deploys; i++)
        {
            var sha = await world.Repo.CommitFilesAsync($"feature work {i}", ("addons/sale_extra/data.xml", $"<odoo><!-- {i} --></odoo>"));
            await world.Repo.GitAsync("branch", "-f", "feature", sha);
            await using var poller = new HostPoller(world.Url, "feature.bench.localhost", TimeSpan.FromMilliseconds(5));
            await WaitAsync(() => Task.FromResult(poller.Saw(current.ToString())), TimeSpan.FromSeconds(30), "the current release to answer");
            var started = DateTime.UtcNow;
            var build = await world.QueueBuildAsync(project, "feature", sha);
            var fresh = await world.WaitForInstanceAsync(build, r => r.State == "running" && r.IsCurrent, BuildTimeout);
            var old = await world.WaitForInstanceAsync(current, r => r.CleanedAt is not null, TimeSpan.FromSeconds(60)); // stopped, its database dropped
            await WaitAsync(() => Task.FromResult(poller.Saw(build.ToString())), TimeSpan.FromSeconds(60), "the new release to answer through the proxy");
            await Task.Delay(500);
            await poller.DisposeAsync();
            var answers = poller.Answers;
            var bad = answers.Where(a => !a.Good).ToList();
            foreach (var a in bad) failures[a.What] = failures.GetValueOrDefault(a.What) + 1;
            totals = (totals.Failed + bad.Count, totals.Asked + answers.Count);
            var switchMs = (answers.Where(a => a.Good && a.Release == build.ToString()).Min(a => a.At)
                            - answers.Where(a => a.Good && a.Release == current.ToString()).Max(a => a.At)).TotalMilliseconds;
            var sigterm = await world.LoggedAsync(old.Id, "%Initiating shutdown%", started);
            var proxied = world.ProxyLog.Since(started).Select(w =>
                $"{(w.Instance == old.Id ? "old" : w.Instance == fresh.Id ? "new" : "other")} at SIGTERM{(sigterm is null ? "?" : $"{(w.At - sigterm.Value).TotalMilliseconds:+0;-0}")} ms ({w.Message})");
            Console.WriteLine($"  {i,3} {await BuildMsAsync(world, build),6:F0} {switchMs,7:F0} {$"{bad.Count}/{answers.Count}",13}  {string.Join("; ", proxied)}");
            current = build;
        }
        Console.WriteLine();
        Console.WriteLine($"  failed requests during {deploys} switches: {totals.Failed} of {totals.Asked} " +
                          $"(target 0: {(totals.Failed == 0 ? "met" : "NOT met")}){(failures.Count == 0 ? "" : "; " + string.Join(", ", failures.Select(f => $"{f.Key}×{f.Value}")))}");
    }

    /// <summary>The branch's first build and its instance answering through the proxy; its build id (the release).</summary>
    static async Task<Guid> FirstDeployAsync(InstanceBenchWorld world, Guid project, string branch)
    {
        var build = await world.QueueBuildAsync(project, branch, null);
        await world.WaitForInstanceAsync(build, r => r.State == "running" && r.IsCurrent, BuildTimeout);
        await using var poller = new HostPoller(world.Url, $"{branch}.bench.localhost", TimeSpan.FromMilliseconds(50));
        await WaitAsync(() => Task.FromResult(poller.Saw(build.ToString())), TimeSpan.FromSeconds(60), $"{branch}'s first release to answer through the proxy");
        Console.WriteLine($"  first deploy of {branch} (not counted): build {await BuildMsAsync(world, build):F0} ms");
        return build;
    }

    static async Task<double> BuildMsAsync(InstanceBenchWorld world, Guid build)
    {
        await using var conn = await world.OpenAsync();
        return await conn.ExecuteScalarAsync<double>("select extract(epoch from finished_at - started_at) * 1000 from ops.builds where id = @build", new { build });
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s in vain for {what}");
            await Task.Delay(50);
        }
    }
}
