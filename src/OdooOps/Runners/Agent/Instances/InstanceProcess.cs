using System.Diagnostics;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Sandbox;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// One instance's Odoo server on this host, for as long as it should run: started in a sandbox of its own (its uid, its
/// cgroup with the branch's memory and CPUs, its network namespace whose two Odoo ports are forwarded from host ports),
/// watched by health checks, restarted after a crash with a back-off that doubles, and given up on (failed) after too
/// many crashes in a short time. A server that stops answering is unhealthy; one that stays so is restarted. Stopping
/// ends the whole process tree (SIGTERM, then SIGKILL after the grace) and the sandbox with it.
/// </summary>
internal sealed class InstanceProcess : IAsyncDisposable
{
    readonly InstanceLaunch _launch;
    readonly Action _changed;
    readonly ILogger _log;
    readonly CancellationTokenSource _stop = new();
    readonly List<DateTime> _crashes = [];
    Task _run = Task.CompletedTask;
    volatile BuildSandbox? _sandbox;

    public InstanceProcess(InstanceLaunch launch, Action changed, ILogger log) => (_launch, _changed, _log) = (launch, changed, log);

    public InstanceSpec Spec => _launch.Spec;
    public RequestStats Requests => _launch.Requests;
    public int Generation => _launch.Spec.RestartGeneration;
    public string State { get; private set; } = "starting";
    public string? Reason { get; private set; }
    public int Restarts { get; private set; }
    public DateTime? StartedAt { get; private set; }
    public DateTime? ReadyAt { get; private set; }
    public DateTime? StoppedAt { get; private set; }
    public bool IsOver => _run.IsCompleted;

    /// <summary>The processes of the instance now (its cgroup's), for sampling.</summary>
    public IReadOnlyList<int> Processes() => _sandbox?.Processes() ?? [];

    /// <summary>What the instance is now; its env revision is its spec's, whose variables every life of this process starts with.</summary>
    public InstanceReport Report() => new(Spec.InstanceId, State, Reason, _launch.HttpPort, _launch.GeventPort, null, Restarts,
        Generation, StartedAt, ReadyAt, StoppedAt) { EnvRevision = Spec.EnvRevision };

    /// <summary>The host's time (as the hosting's clock tells it) for the reported start, ready and stop times.</summary>
    DateTime Now => _launch.Hosting.Clock.GetUtcNow().UtcDateTime;

    public void Start() => _run = Task.Run(() => SuperviseAsync(_stop.Token));

    /// <summary>Stops the server (SIGTERM, grace, SIGKILL of its whole tree) and waits until it is gone.</summary>
    public async Task StopAsync(string reason)
    {
        if (!_stop.IsCancellationRequested)
        {
            Set("stopping", reason);
            await _stop.CancelAsync();
        }
        await _run;
        Set("stopped", reason);
        StoppedAt ??= Now;
        _changed();
    }

    void Set(string state, string? reason)
    {
        if (State == state && Reason == reason) return;
        (State, Reason) = (state, reason);
        _changed();
    }

    async Task SuperviseAsync(CancellationToken stop)
    {
        var backoff = _launch.Hosting.FirstBackoff;
        while (!stop.IsCancellationRequested)
        {
            var (outcome, detail) = await RunOnceAsync(stop);
            if (stop.IsCancellationRequested) return;
            var now = Now;
            _crashes.Add(now);
            _crashes.RemoveAll(t => now - t > _launch.Hosting.RestartWindow);
            _launch.Logs.Add(LogStream.System, $"odooops: the server {outcome}{(detail is null ? "" : $": {detail}")}", DateTimeOffset.UtcNow);
            if (_crashes.Count >= _launch.Hosting.MaxRestarts)
            {
                Set("failed", $"{outcome} {_crashes.Count} times within {_launch.Hosting.RestartWindow.TotalMinutes:0} minutes" +
                              (detail is null ? "" : $"; last: {detail}"));
                StoppedAt = now;
                return;
            }
            Restarts++;
            Set("starting", $"restarting after it {outcome} (restart {Restarts}, in {backoff.TotalSeconds:0.#} s)");
            try { await Task.Delay(backoff, stop); } catch (OperationCanceledException) { return; }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
        }
    }

    /// <summary>One life of the server: until it exits, stops answering for good, or is stopped. Says what ended it.</summary>
    async Task<(string Outcome, string? Detail)> RunOnceAsync(CancellationToken stop)
    {
        Set("starting", Reason);
        StartedAt = Now;
        ReadyAt = null;
        StoppedAt = null;
        BuildSandbox? sandbox = null;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(stop);
        try
        {
            sandbox = await _launch.PrepareAsync(stop);
            _sandbox = sandbox;
            string? lastLine = null;
            var ownCheck = $"\"GET {_launch.HealthPath} HTTP/";
            var server = SessionProcess.RunAsync(_launch.Command(), line =>
                {
                    // The runner's own health checks are neither the instance's traffic nor worth a log line each.
                    if (line.Text.Contains(ownCheck, StringComparison.Ordinal) && line.Text.Contains("werkzeug:", StringComparison.Ordinal)) return;
                    lastLine = line.Text;
                    _launch.Logs.Add(line);
                    _launch.Requests.Observe(line.Text);
                },
                ProcessOptions.Default with
                {
                    KillGrace = _launch.Hosting.StopGrace, InheritedVariables = [],
                    Sandbox = sandbox is null ? null : sandbox.Run(_launch.DataDir, network: true, [_launch.ReleaseDir]) with { Binds = _launch.Binds },
                }, end.Token);
            var watch = WatchAsync(server, end);
            var result = await server;
            await end.CancelAsync();
            var gaveUp = await watch;
            if (stop.IsCancellationRequested) return ("stopped", null);
            if (gaveUp is not null) return ("stopped answering", gaveUp);
            var limit = sandbox?.LimitReached((0, 0));
            return ("exited", limit ?? $"exit code {result.ExitCode}{(lastLine is null ? "" : $" after \"{Trim(lastLine)}\"")}");
        }
        catch (Exception e)
        {
            // Whatever failed (the database, the sandbox, a port), the supervisor carries on: it says why and tries again.
            if (stop.IsCancellationRequested) return ("stopped", null);
            _log.LogWarning("Instance {InstanceId} could not start: {Message}", Spec.InstanceId, e.Message);
            return ("could not start", e.Message);
        }
        finally
        {
            _sandbox = null;
            if (sandbox is not null) await sandbox.EndAsync();
        }
    }

    static string Trim(string line) => Pipeline.AnsiEscapes.Strip(line.Length > 300 ? line[..300] + "…" : line);

    /// <summary>
    /// Health checks while the server runs: running once it answers, unhealthy after a few misses, given up on (the
    /// reason returned, the server ended) when it does not answer within the start timeout or stays unhealthy as long.
    /// </summary>
    async Task<string?> WatchAsync(Task server, CancellationTokenSource end)
    {
        var hosting = _launch.Hosting;
        var started = Stopwatch.StartNew();
        var misses = 0;
        // Often while it starts (a production deploy's downtime ends at its first good answer), then at the interval.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Min(hosting.HealthInterval.TotalMilliseconds, 100)));
        try
        {
            while (!server.IsCompleted && await timer.WaitForNextTickAsync(end.Token))
            {
                var ok = await _launch.HealthyAsync(end.Token);
                if (ReadyAt is null)
                {
                    if (ok)
                    {
                        ReadyAt = Now;
                        Set("running", null);
                        timer.Period = hosting.HealthInterval;
                    }
                    else if (started.Elapsed > hosting.StartTimeout)
                    {
                        await end.CancelAsync();
                        return $"no answer on {_launch.HealthPath} within {hosting.StartTimeout.TotalSeconds:0} s of starting";
                    }
                    continue;
                }
                misses = ok ? 0 : misses + 1;
                if (ok) Set("running", null);
                else if (misses >= hosting.UnhealthyAfter * 2)
                {
                    await end.CancelAsync();
                    return $"{misses} health checks on {_launch.HealthPath} failed in a row";
                }
                else if (misses >= hosting.UnhealthyAfter) Set("unhealthy", $"{misses} health checks on {_launch.HealthPath} failed in a row");
            }
        }
        catch (OperationCanceledException) { }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }
}
