using System.Diagnostics;
using OdooOps.Database;

namespace OdooOps.Scheduler;

/// <summary>
/// The scheduler inside `serve`. Every replica runs one loop per job on the same cron ticks (UTC, from the injected
/// <see cref="TimeProvider"/>); for each tick the replicas race for it through <see cref="JobRunStore.TryClaimAsync"/>
/// and only the winner runs the job and records it in ops.job_runs, the others record nothing. A failing or
/// timed-out run is logged and recorded as failed; it never stops its own loop or the other jobs' loops.
/// </summary>
public sealed class SchedulerService(JobSchedule schedule, OpsDatabase database, IServiceProvider services, TimeProvider time, ILogger<SchedulerService> logger)
    : BackgroundService
{
    /// <summary>Waits are cut into slices so that a wall clock that jumps (NTP, suspend) is noticed within one.</summary>
    static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(1);

    public enum TickOutcome { Success, Failed, ClaimedElsewhere }

    public sealed record TickResult(string Job, DateTimeOffset Tick, TickOutcome Outcome, string? Detail);

    /// <summary>Which process ran a job: ops.job_runs.node.</summary>
    public string Node { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    public JobSchedule Schedule => schedule;

    /// <summary>Raised after every tick this node took part in, whoever ran it (observers: tests, future metrics).</summary>
    public event Action<TickResult>? TickCompleted;

    DateTimeOffset _startedAt;

    /// <summary>The first ticks are the ones after this instant, fixed here because ExecuteAsync runs later, on another thread.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _startedAt = time.GetUtcNow();
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll([.. schedule.Entries.Select(entry => Task.Run(() => LoopAsync(entry, stoppingToken), CancellationToken.None)),
            Task.Run(() => SweepLoopAsync(stoppingToken), CancellationToken.None)]);

    /// <summary>How often runs left 'running' by a node that died are looked for (and how old they must be).</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    async Task SweepLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await SweepAbandonedRunsAsync(ct);
            // Wall-clock time, not the injected clock: this housekeeping is not a cron tick (and test clocks stay the ticks' own).
            try { await Task.Delay(SweepInterval, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Closes the runs of dead nodes (see <see cref="JobRunStore.CloseAbandonedRunsAsync"/>); never throws.</summary>
    public async Task<int> SweepAbandonedRunsAsync(CancellationToken ct = default)
    {
        try
        {
            var closed = await JobRunStore.CloseAbandonedRunsAsync(database.Service, time.GetUtcNow() - SweepInterval, ct);
            if (closed > 0) logger.LogWarning("Closed {Count} job run(s) left running by a node that stopped.", closed);
            return closed;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Looking for abandoned job runs failed: {Message}", e.Message);
            return 0;
        }
        catch (OperationCanceledException) { return 0; }
    }

    async Task LoopAsync(JobSchedule.Entry entry, CancellationToken ct)
    {
        var next = entry.NextAfter(_startedAt);
        while (next is { } tick && !ct.IsCancellationRequested)
        {
            var wait = tick - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try { await Task.Delay(wait < MaxWait ? wait : MaxWait, time, ct); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            await RunTickAsync(entry, tick, ct);
            // The tick after this one; when the run took so long that several went by, only the latest of them runs
            // (late ticks are not queued up behind each other).
            var now = time.GetUtcNow();
            next = entry.NextAfter(tick) is { } following && following <= now ? entry.LatestDue(tick, now) : entry.NextAfter(tick);
        }
    }

    /// <summary>Runs every job that has a tick at <paramref name="tick"/> (the tests' way to drive the scheduler).</summary>
    public Task<TickResult[]> RunDueAsync(DateTimeOffset tick, CancellationToken ct = default) =>
        Task.WhenAll(schedule.Entries.Where(e => e.FiresAt(tick)).Select(e => RunTickAsync(e, tick, ct)));

    public Task<TickResult> RunTickAsync(string job, DateTimeOffset tick, CancellationToken ct = default) =>
        RunTickAsync(schedule.Find(job) ?? throw new ArgumentException($"No scheduled job named '{job}'.", nameof(job)), tick, ct);

    /// <summary>Claims and runs one tick of one job. Never throws: whatever goes wrong is logged and, when the tick was ours, recorded.</summary>
    public async Task<TickResult> RunTickAsync(JobSchedule.Entry entry, DateTimeOffset tick, CancellationToken ct = default)
    {
        var job = entry.Job;
        TickResult result;
        try
        {
            await using var claim = await JobRunStore.TryClaimAsync(database.Service, job.Name, Node, tick, ct);
            if (claim is null)
            {
                logger.LogDebug("Job {Job} tick {Tick:O} is run by another node", job.Name, tick);
                result = new(job.Name, tick, TickOutcome.ClaimedElsewhere, null);
            }
            else
            {
                result = await RunClaimedAsync(job, tick, ct);
                if (!await claim.FinishAsync(result.Outcome == TickOutcome.Success ? "success" : "failed", result.Detail ?? ""))
                    logger.LogWarning("Job {Job} run {RunId} had already been closed when it finished", job.Name, claim.RunId);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            result = new(job.Name, tick, TickOutcome.Failed, "cancelled: the server was stopping");
        }
        catch (Exception e)
        {
            // The database was unreachable while claiming or recording: nothing could be written, so the log is the record.
            logger.LogError(e, "Job {Job} tick {Tick:O} could not be claimed or recorded: {Message}", job.Name, tick, e.Message);
            result = new(job.Name, tick, TickOutcome.Failed, e.Message);
        }
        try { TickCompleted?.Invoke(result); }
        catch (Exception e) { logger.LogError(e, "A TickCompleted observer failed"); } // an observer must not stop the loop (and so the host)
        return result;
    }

    async Task<TickResult> RunClaimedAsync(ScheduledJob job, DateTimeOffset tick, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(job.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        var started = Stopwatch.GetTimestamp();
        await using var scope = services.CreateAsyncScope();
        try
        {
            // WaitAsync: a job that ignores its token still gives the tick back at the timeout.
            var detail = await Task.Run(() => job.Run(scope.ServiceProvider, linked.Token), CancellationToken.None).WaitAsync(linked.Token);
            logger.LogInformation("Job {Job} tick {Tick:O} succeeded in {ElapsedMs:F0} ms: {Detail}",
                job.Name, tick, Stopwatch.GetElapsedTime(started).TotalMilliseconds, detail);
            return new(job.Name, tick, TickOutcome.Success, detail);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            var detail = $"timed out after {Describe(job.Timeout)}";
            logger.LogError("Job {Job} tick {Tick:O} failed: {Detail}", job.Name, tick, detail);
            return new(job.Name, tick, TickOutcome.Failed, detail);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logger.LogWarning("Job {Job} tick {Tick:O} was cancelled: the server is stopping", job.Name, tick);
            return new(job.Name, tick, TickOutcome.Failed, "cancelled: the server was stopping");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {Job} tick {Tick:O} failed: {Message}", job.Name, tick, e.Message);
            return new(job.Name, tick, TickOutcome.Failed, e.Message);
        }
    }

    static string Describe(TimeSpan t) => t.TotalSeconds < 120 ? $"{t.TotalSeconds:0.###} s" : $"{t.TotalMinutes:0.##} min";
}
