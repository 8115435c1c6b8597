using System.Diagnostics;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Sandbox;

namespace OdooOps.Bench;

/// <summary>
/// The sandbox issue's cost target: a build of 20 trivial steps with and without the sandbox, at most 30 ms more per
/// step. Each build is what the runner does: (sandboxed) the build's sandbox made — uid lease, cgroup, HOME — then 20
/// steps of <c>true</c> through the same StepProcess path the pipeline uses, then the sandbox ended. Three kinds run
/// in turn, so machine noise hits all of them alike: unsandboxed (OPS_RUNNER_UNSANDBOXED=1), sandboxed with the
/// project's network cut, and sandboxed with outbound network (the default: the build's namespace, configured by slirp4netns once per build,
/// entered by each step). Needs root.
/// </summary>
public static class SandboxBench
{
    const int Steps = 20;

    public static async Task<int> RunAsync(BenchOptions o)
    {
        if (!Environment.IsPrivilegedProcess) { Console.Error.WriteLine("sandbox: run as root (the sandbox needs it)."); return 2; }
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs; run on a quiet machine, load < 1.5)");
        var dir = Directory.CreateTempSubdirectory("odooops-bench-sandbox-").FullName;
        var settings = new SandboxSettings { LockDirectory = Path.Combine(dir, "locks") };
        var uids = new SandboxUids(settings);
        var kinds = new (string Name, bool Sandboxed, bool Network)[] { ("unsandboxed", false, false), ("sandbox, no network", true, false), ("sandbox + network", true, true) };
        var perStep = kinds.ToDictionary(k => k.Name, _ => new List<double>());
        var perBuild = kinds.ToDictionary(k => k.Name, _ => new List<double>());
        try
        {
            for (var round = -1; round < o.Builds; round++) // round -1: warm-up, not counted
                foreach (var kind in kinds)
                {
                    var build = Stopwatch.StartNew();
                    var id = Guid.NewGuid();
                    var workspace = Directory.CreateDirectory(Path.Combine(dir, "builds", id.ToString("D"))).FullName;
                    var sandbox = kind.Sandboxed ? await BuildSandbox.CreateAsync(settings, uids, dir, id, default) : null;
                    if (sandbox is not null) await sandbox.OwnAsync(workspace, default);
                    var steps = new List<double>();
                    for (var i = 0; i < Steps; i++)
                    {
                        var step = Stopwatch.StartNew();
                        var result = await StepProcess.RunAsync(new StepCommand("true", workspace), _ => { },
                            ProcessOptions.Default with { Sandbox = sandbox?.Run(workspace, kind.Network) });
                        if (!result.Succeeded) throw new InvalidOperationException($"{kind.Name}: a step failed ({result.ExitCode}).");
                        steps.Add(step.Elapsed.TotalMilliseconds);
                    }
                    if (sandbox is not null) await sandbox.EndAsync();
                    WorkspaceFolder.Delete(workspace);
                    if (round < 0) continue;
                    perStep[kind.Name].AddRange(steps);
                    perBuild[kind.Name].Add(build.Elapsed.TotalMilliseconds);
                }
        }
        finally { WorkspaceFolder.Delete(dir); }

        Console.WriteLine($"{o.Builds} builds of {Steps} steps (`true`) per kind, interleaved:");
        var baseline = perBuild["unsandboxed"].Average() / Steps;
        foreach (var kind in kinds)
        {
            var steps = new Latencies(perStep[kind.Name]);
            var buildMean = perBuild[kind.Name].Average();
            Console.WriteLine($"  {kind.Name,-20} step p50={steps.Percentile(50),6:F1} ms p95={steps.Percentile(95),6:F1} ms  " +
                              $"build mean={buildMean,7:F0} ms  per step incl. set-up={buildMean / Steps,6:F1} ms  " +
                              $"(+{buildMean / Steps - baseline,5:F1} ms vs unsandboxed)");
        }
        var worst = perBuild.Where(k => k.Key != "unsandboxed").Max(k => k.Value.Average() / Steps) - baseline;
        Console.WriteLine($"target: ≤ 30 ms more per step → {(worst <= 30 ? "met" : "NOT met")} (+{worst:F1} ms)");
        return 0;
    }
}
