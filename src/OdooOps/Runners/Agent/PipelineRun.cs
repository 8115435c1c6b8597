using OdooOps.Builds;
using System.Diagnostics;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Pipeline;
using static OdooOps.Runners.Protocol.RunnerProtocol;
using ProcessOutcome = OdooOps.Runners.Agent.Execution.StepOutcome;
using StepOutcome = OdooOps.Runners.Agent.Pipeline.StepOutcome;

namespace OdooOps.Runners.Agent;

/// <summary>
/// The steps of one build in order, each reported when it starts and ends. A failed step (not continue_on_error)
/// skips the rest; the pipeline's own timeout bounds the whole run; Odoo-format WARNING/ERROR/CRITICAL lines in any
/// step's output colour the result (<see cref="BuildResult.Fold"/>).
/// </summary>
sealed class PipelineRun(DispatchClient client, Job job, LogBatcher logs, RunnerOptions options, Sandbox.BuildSandbox? sandbox)
{
    OdooLogLevel? _worst;

    public async Task<(string Result, string Detail)> RunAsync(PipelineDefinition pipeline, string directory,
        IReadOnlyDictionary<string, string> env, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var outcomes = new List<StepOutcome>();
        var buildTimedOut = false;
        string? firstFailure = null, limitReached = null;
        for (var seq = 0; seq < pipeline.Steps.Count; seq++)
        {
            var step = pipeline.Steps[seq];
            // A build timeout reached between two steps: the next one would get no time at all.
            if (pipeline.Timeout is { } limit && clock.Elapsed >= limit) buildTimedOut = true;
            var stopAfter = firstFailure is not null || buildTimedOut || ct.IsCancellationRequested;
            if (stopAfter || step.Skipped)
            {
                var reason = step.SkipReason ?? (ct.IsCancellationRequested ? "cancelled" : buildTimedOut ? "the build timed out" : $"an earlier step failed ({firstFailure})");
                logs.Add(LogStream.System, $"Step {seq + 1} \"{step.Name}\" skipped: {reason}", DateTimeOffset.UtcNow);
                await client.StepAsync(job, seq, new StepRequest(null, step.Name, "skipped", null, DateTime.UtcNow, 0), CancellationToken.None);
                outcomes.Add(new StepOutcome(StepEnd.Skipped));
                continue;
            }

            var left = pipeline.Timeout is { } total ? total - clock.Elapsed : (TimeSpan?)null;
            var timeout = (step.Timeout, left) switch
            {
                ({ } s, { } l) => s < l ? s : l,
                ({ } s, null) => s,
                (null, { } l) => l,
                _ => (TimeSpan?)null,
            };
            var byBuildTimeout = left is { } rest && (step.Timeout is null || rest < step.Timeout);
            var started = DateTime.UtcNow;
            logs.Add(LogStream.System, $"Step {seq + 1} \"{step.Name}\"{(timeout is { } t ? $" (timeout {t:g})" : "")}", DateTimeOffset.UtcNow);
            await client.StepAsync(job, seq, new StepRequest(null, step.Name, "running", null, started, null), ct);

            var stepEnv = new Dictionary<string, string>(env);
            foreach (var (k, v) in step.Env) stepEnv[k] = v;
            var counters = sandbox?.Counters();
            var run = await StepProcess.RunAsync(new StepCommand(step.Run, directory) { Environment = stepEnv, Timeout = timeout }, OnLine,
                ProcessOptions.Default with
                {
                    KillGrace = options.KillGrace, RunAs = options.StepUser, Sandbox = sandbox?.Run(directory, job.NetworkAccess),
                }, ct);
            var reached = counters is { } before && !run.Succeeded ? sandbox!.LimitReached(before) : null;
            if (reached is not null) logs.Add(LogStream.System, $"Step {seq + 1} \"{step.Name}\": {reached}", DateTimeOffset.UtcNow);

            var end = run.Outcome switch
            {
                ProcessOutcome.Cancelled => StepEnd.Cancelled,
                ProcessOutcome.TimedOut => StepEnd.TimedOut,
                _ => run.ExitCode == 0 ? StepEnd.Succeeded : StepEnd.Failed,
            };
            if (end == StepEnd.TimedOut && byBuildTimeout) buildTimedOut = true;
            var status = end switch
            {
                StepEnd.Succeeded => "success", StepEnd.Failed => "failed", StepEnd.TimedOut => "timed_out", _ => "cancelled",
            };
            logs.Add(LogStream.System, $"Step {seq + 1} \"{step.Name}\": {status} (exit code {run.ExitCode}, {run.Duration.TotalSeconds:0.0} s)", DateTimeOffset.UtcNow);
            await client.StepAsync(job, seq, new StepRequest(null, step.Name, status, run.ExitCode, started, (long)run.Duration.TotalMilliseconds), CancellationToken.None);
            outcomes.Add(new StepOutcome(end, step.ContinueOnError));
            if (end is StepEnd.Failed or StepEnd.TimedOut && !step.ContinueOnError)
            {
                firstFailure ??= step.Name;
                limitReached ??= reached;
            }
            if (end == StepEnd.Cancelled) break;
        }

        if (ct.IsCancellationRequested) return (BuildStatus.Cancelled, "Cancelled on request.");
        var result = BuildResult.Fold(outcomes, _worst, buildTimedOut);
        var detail = result switch
        {
            BuildStatus.Failed when firstFailure is not null => $"Step \"{firstFailure}\" failed{(limitReached is null ? "" : $": {limitReached}")}.",
            BuildStatus.Failed => $"Odoo logged {_worst?.ToString().ToUpperInvariant()} lines.",
            BuildStatus.TimedOut => buildTimedOut ? "The build ran past its timeout." : $"Step \"{firstFailure}\" timed out.",
            BuildStatus.Warning => "Odoo logged WARNING lines, or a step allowed to fail failed.",
            _ => "",
        };
        return (result, detail);
    }

    void OnLine(OutputLine line)
    {
        logs.Add(line);
        if (OdooLogLine.Level(line.Text) is { } level) _worst = OdooLogLine.Worst(_worst, level);
    }
}
