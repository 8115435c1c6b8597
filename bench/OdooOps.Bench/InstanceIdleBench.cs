using System.Diagnostics;
using Dapper;

namespace OdooOps.Bench;

/// <summary>
/// Part 3 of the instances bench: `odooops runner` (the built binary, a process of its own, every setting at its
/// default: health every 5 s, samples every 60 s, sync every 2 s) idle with no instance, then supervising M instances
/// (M development builds of M branches of one project, real builds), idle again. Its own CPU (utime + stime of its
/// threads, /proc/&lt;pid&gt;/stat) and memory (VmRSS) over the same window, minus nothing: the baseline is shown beside.
/// Targets: supervisor CPU ≤ 2 % of a core at idle, runner process memory ≤ 150 MB.
/// </summary>
public static class InstanceIdleBench
{
    const string Name = "host-idle";

    /// <param name="RunnerEnv">Added to the runner process's environment (experiments: DOTNET_gcServer=0, OPS_INSTANCE_HEALTH_SECONDS=30…).</param>
    public sealed record Settings(int Instances, int IdleSeconds, int BaselineSeconds, int BuildCapacity, IReadOnlyDictionary<string, string> RunnerEnv);

    public static async Task RunAsync(InstanceBenchWorld world, Settings settings)
    {
        var (instances, idleSeconds, baselineSeconds, buildCapacity, _) = settings;
        Console.WriteLine();
        Console.WriteLine($"== 3. {instances} instances on one runner (`odooops runner`, a separate process, build capacity {buildCapacity}); " +
                          $"idle windows of {baselineSeconds} s (no instance) and {idleSeconds} s ({instances} instances)" +
                          (settings.RunnerEnv.Count == 0 ? "" : $"; runner environment: {string.Join(" ", settings.RunnerEnv.Select(e => $"{e.Key}={e.Value}"))}"));
        var branches = Enumerable.Range(1, instances).Select(i => $"b{i:D3}").ToArray();
        var project = await world.CreateProjectAsync("idle", Math.Clamp(instances, 1, 100), [.. branches.Select(b => (b, "development"))]);
        foreach (var branch in branches) await world.Repo.GitAsync("branch", "-f", branch, "main");
        var token = await world.RunnerTokenAsync(Name, buildCapacity, instances + 5);
        using var runner = StartRunner(world, token, buildCapacity, settings.RunnerEnv);
        await InstanceBench.WaitAsync(async () =>
        {
            await using var conn = await world.OpenAsync();
            return await conn.ExecuteScalarAsync<bool>("select instances_seen_at is not null from ops.runners where name = @Name", new { Name });
        }, TimeSpan.FromSeconds(60), "the runner's first instance sync");
        await Task.Delay(TimeSpan.FromSeconds(10));
        var postmaster = world.PostmasterPid();
        var baseline = await MeasureAsync(runner.Process.Id, postmaster, baselineSeconds);

        var placing = Stopwatch.StartNew();
        foreach (var branch in branches) await world.QueueBuildAsync(project, branch, null);
        var running = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60 + 60 * instances);
        while (running < instances)
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            await using var conn = await world.OpenAsync();
            var states = (await conn.QueryAsync<(string, int)>("""
                select coalesce(i.state, 'build ' || b.status), count(*)::int from ops.builds b left join ops.instances i on i.build_id = b.id
                 where b.project_id = @project group by 1 order by 1
                """, new { project })).ToList();
            running = states.Where(s => s.Item1 == "running").Sum(s => s.Item2);
            Console.WriteLine($"  {placing.Elapsed.TotalSeconds,5:F0} s: {string.Join(", ", states.Select(s => $"{s.Item1} {s.Item2}"))}");
            if (states.Any(s => s.Item1 is "build failed" or "failed")) throw new InvalidOperationException("a build or an instance failed:\n" + runner.Tail());
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{running} of {instances} instances running:\n" + runner.Tail());
        }
        Console.WriteLine($"  all {instances} running after {placing.Elapsed.TotalSeconds:F0} s; settling 15 s");
        await PlacementAsync(world, project);
        await Task.Delay(TimeSpan.FromSeconds(15));
        var windowStart = DateTime.UtcNow;
        var loaded = await MeasureAsync(runner.Process.Id, postmaster, idleSeconds);
        await using (var conn = await world.OpenAsync())
        {
            var stillRunning = await conn.ExecuteScalarAsync<int>("select count(*) from ops.instances where project_id = @project and state = 'running'", new { project });
            Console.WriteLine($"  running at the end of the window: {stillRunning} of {instances}");
            var (lines, health) = await conn.QuerySingleAsync<(long, long)>("""
                select count(*), count(*) filter (where l.line like '%/web/health%') from ops.instance_logs l join ops.instances i on i.id = l.instance_id
                 where i.project_id = @project and l.ts >= @windowStart
                """, new { project, windowStart });
            Console.WriteLine($"  instance log lines stored during the window: {lines} ({lines * 60.0 / idleSeconds:F0}/min), of which /web/health requests: {health}");
            var samples = await conn.QueryAsync<(string, long, double)>("""
                select metric, count(*), avg(value) from ops.metric_samples where project_id = @project and received_at >= @windowStart
                 group by metric order by metric
                """, new { project, windowStart });
            Console.WriteLine($"  metric samples received during the window (count, mean): {string.Join(", ", samples.Select(m => $"{m.Item1} {m.Item2} × {m.Item3:0.##}"))}");
        }
        Report(instances, baseline, loaded);

        var stopping = Stopwatch.StartNew();
        var exited = await runner.TerminateAsync(TimeSpan.FromSeconds(120));
        Console.WriteLine($"  SIGTERM to the runner: {(exited ? $"exited after {stopping.Elapsed.TotalSeconds:F1} s" : "still running after 120 s")}");
        var problems = runner.Problems();
        Console.WriteLine($"  the runner logged {problems.Count} warnings and errors{(problems.Count == 0 ? "" : ":")}");
        foreach (var problem in problems.Take(20)) Console.WriteLine($"    {problem}");
    }

    /// <summary>How long the builds took (claim → result), and the steps of the slowest, and queued → its instance running.</summary>
    static async Task PlacementAsync(InstanceBenchWorld world, Guid project)
    {
        await using var conn = await world.OpenAsync();
        var builds = (await conn.QueryAsync<(Guid Id, double BuildMs, double WaitMs, double ReadyMs)>("""
            select b.id, extract(epoch from b.finished_at - b.started_at) * 1000, extract(epoch from b.started_at - b.queued_at) * 1000,
                   extract(epoch from i.ready_at - b.finished_at) * 1000
              from ops.builds b join ops.instances i on i.build_id = b.id where b.project_id = @project
            """, new { project })).ToList();
        var took = new Latencies(builds.Select(b => b.BuildMs));
        Console.WriteLine($"  builds (claim → result): p50 {took.Percentile(50):F0} ms, max {took.Percentile(100):F0} ms; " +
                          $"result → instance ready: p50 {new Latencies(builds.Select(b => b.ReadyMs)).Percentile(50):F0} ms, max {builds.Max(b => b.ReadyMs):F0} ms");
        var slowest = builds.MaxBy(b => b.BuildMs);
        var steps = await conn.QueryAsync<(string, long?)>("select name, duration_ms from ops.build_steps where build_id = @Id order by seq", new { slowest.Id });
        Console.WriteLine($"  slowest build's steps: {string.Join(", ", steps.Select(s => $"{s.Item1} {s.Item2} ms"))}");
        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") is "1")
            foreach (var line in await conn.QueryAsync<string>(
                "select to_char(ts, 'HH24:MI:SS.MS') || ' ' || stream || ' ' || left(line, 160) from ops.build_logs where build_id = @Id order by seq", new { slowest.Id }))
                Console.WriteLine($"    {line}");
    }

    /// <param name="Before">The runner's tree at the start of the window; <paramref name="After"/> at its end.</param>
    /// <param name="Others">This process (serve, its proxy) and the cluster's processes, at the start and the end.</param>
    sealed record Window(ProcessTree Before, ProcessTree After, (ProcessTree Before, ProcessTree After) Others,
        long RssStartKb, long RssEndKb, long HwmKb, IReadOnlyList<long> RssKb, long Threads);

    /// <summary>The runner's tree at the start and the end of the window, its VmRSS every 5 s between.</summary>
    static async Task<Window> MeasureAsync(int pid, int postmaster, int seconds)
    {
        ProcessTree Others() => ProcessTree.Of(Environment.ProcessId, postmaster);
        var (before, othersBefore) = (ProcessTree.Of(pid), Others());
        var rss = new List<long> { Status(pid, "VmRSS") };
        var end = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < end)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, Math.Max(0.1, (end - DateTime.UtcNow).TotalSeconds))));
            rss.Add(Status(pid, "VmRSS"));
        }
        return new Window(before, ProcessTree.Of(pid), (othersBefore, Others()), rss[0], rss[^1], Status(pid, "VmHWM"), rss, Status(pid, "Threads"));
    }

    static void Report(int instances, Window baseline, Window loaded)
    {
        var root = loaded.Before.Root;
        bool Runner(ProcessTree.Entry e) => e.Pid == root;
        static bool StandIn(ProcessTree.Entry e) => e.Command is "odoo-bin" || e.Command.StartsWith("python", StringComparison.Ordinal);
        bool Helper(ProcessTree.Entry e) => !Runner(e) && !StandIn(e);
        string Row(string what, Func<Window, string> value) => $"  {what,-36} {value(baseline),18} {value(loaded),18}";
        Console.WriteLine();
        Console.WriteLine($"  {"",-36} {"no instance",18} {instances + " instances",18}");
        Console.WriteLine(Row("runner process CPU (% of a core)", w => $"{w.After.CpuPercentSince(w.Before, Runner):F2}"));
        Console.WriteLine(Row("runner VmRSS start → end (MB)", w => $"{w.RssStartKb / 1024.0:F0} → {w.RssEndKb / 1024.0:F0}"));
        Console.WriteLine(Row("runner VmRSS min/max in window (MB)", w => $"{w.RssKb.Min() / 1024.0:F0}/{w.RssKb.Max() / 1024.0:F0}"));
        Console.WriteLine(Row("runner VmHWM (MB)", w => $"{w.HwmKb / 1024.0:F0}"));
        Console.WriteLine(Row("runner threads", w => $"{w.Threads}"));
        Console.WriteLine(Row("helpers (sandbox, network): count", w => $"{w.After.Count(Helper)}"));
        Console.WriteLine(Row("helpers CPU (% of a core)", w => $"{w.After.CpuPercentSince(w.Before, Helper):F2}"));
        Console.WriteLine(Row("helpers RSS (MB)", w => $"{w.After.RssKb(Helper) / 1024.0:F0}"));
        Console.WriteLine(Row("stand-in processes: count", w => $"{w.After.Count(StandIn)}"));
        Console.WriteLine(Row("stand-ins CPU (% of a core)", w => $"{w.After.CpuPercentSince(w.Before, StandIn):F2}"));
        Console.WriteLine(Row("stand-ins RSS (MB)", w => $"{w.After.RssKb(StandIn) / 1024.0:F0}"));
        var self = Environment.ProcessId;
        Console.WriteLine(Row("bench process (serve) CPU %", w => $"{w.Others.After.CpuPercentSince(w.Others.Before, e => e.Pid == self):F2}"));
        Console.WriteLine(Row("its PostgreSQL cluster CPU %", w => $"{w.Others.After.CpuPercentSince(w.Others.Before, e => e.Command.StartsWith("postgres", StringComparison.Ordinal)):F2}"));
        Console.WriteLine($"  helpers by name: {string.Join(", ", loaded.After.Processes.Values.Where(Helper).GroupBy(e => e.Command).Select(g => $"{g.Key}×{g.Count()}"))}");
        Console.WriteLine($"  runner VmRSS every 30 s ({instances} instances, MB): {string.Join(" ", loaded.RssKb.Where((_, i) => i % 6 == 0).Select(kb => $"{kb / 1024.0:F0}"))}");
        var supervisor = loaded.After.CpuPercentSince(loaded.Before, Runner);
        var extra = supervisor - baseline.After.CpuPercentSince(baseline.Before, Runner);
        Console.WriteLine();
        Console.WriteLine($"  supervisor CPU at idle = {supervisor:F2} % of a core ({extra:+0.00;-0.00} over no instance)  (target ≤ 2 %: {(supervisor <= 2 ? "met" : "NOT met")})");
        Console.WriteLine($"  runner process memory  = {loaded.RssEndKb / 1024.0:F0} MB VmRSS, {loaded.HwmKb / 1024.0:F0} MB peak  (target ≤ 150 MB: {(loaded.HwmKb / 1024.0 <= 150 ? "met" : "NOT met")})");
    }

    /// <summary>A figure of /proc/&lt;pid&gt;/status (kB for memory), 0 when gone.</summary>
    static long Status(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]);
        }
        catch (IOException) { return 0; }
    }

    static RunnerChild StartRunner(InstanceBenchWorld world, string token, int capacity, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = world.Dir,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "odooops.dll"), "runner", "--url", world.Url.ToString(), "--token", token,
                     "--name", Name, "--capacity", capacity.ToString(), "--work-dir", world.WorkDir(Name), "--keep-failed", "0" })
            psi.ArgumentList.Add(a);
        foreach (var key in new[] { "OPS_DATABASE_URL", "OPS_DATA_DIR" }) psi.Environment.Remove(key);
        foreach (var (k, v) in world.RunnerSettings(Name).Concat(env)) psi.Environment[k] = v;
        return new RunnerChild(Process.Start(psi)!);
    }

    /// <summary>The runner process, its output kept (the last lines, and its warnings and errors); killed with its tree when disposed.</summary>
    sealed class RunnerChild : IDisposable
    {
        readonly Queue<string> _lines = new();
        readonly List<string> _problems = [];

        public RunnerChild(Process process)
        {
            Process = process;
            process.StandardInput.Close();
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.ErrorDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        void Keep(string? line)
        {
            if (line is null) return;
            lock (_lines)
            {
                // `odooops runner` logs one line per entry: "HH:mm:ss warn: runner[0] message".
                if (line.Contains(" warn: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal))
                    _problems.Add(line.Length > 240 ? line[..240] + "…" : line);
                _lines.Enqueue(line);
                if (Environment.GetEnvironmentVariable("BENCH_RUNNER_LOG") is { Length: > 0 } file) File.AppendAllText(file, line + "\n");
                if (_lines.Count > 40) _lines.Dequeue();
            }
        }

        public IReadOnlyList<string> Problems()
        {
            lock (_lines) return [.. _problems];
        }

        public string Tail()
        {
            lock (_lines) return string.Join("\n", _lines);
        }

        public async Task<bool> TerminateAsync(TimeSpan within)
        {
            Process.Start("kill", ["-TERM", Process.Id.ToString()])!.WaitForExit();
            using var timeout = new CancellationTokenSource(within);
            try { await Process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { return false; }
            return true;
        }

        public void Dispose()
        {
            try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }
}
