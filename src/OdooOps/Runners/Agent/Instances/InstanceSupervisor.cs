using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Sandbox;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// The runner's instances: every <see cref="InstanceHosting.SyncInterval"/> (or at once when something changed) it
/// reports them to the server and reconciles with the answer — starts what should run, stops what should not, restarts
/// on a new restart generation, cleans up retired ones (their database dropped when asked), deletes releases no longer
/// kept. Nothing outlives the runner: its servers run under the same lifeline as build steps, and a stopping runner
/// stops them; a runner that starts again gets the whole set in its first answer and starts them again.
/// </summary>
internal sealed class InstanceSupervisor(DispatchClient client, RunnerOptions options, SandboxUids uids, ILogger log) : IAsyncDisposable
{
    readonly Dictionary<Guid, Hosted> _hosted = [];
    readonly HashSet<Guid> _cleaned = [];
    readonly Dictionary<string, int> _paused = []; // branches whose database is being changed (a production update, a restore), and by how many
    readonly Dictionary<Guid, string> _ingestTokens = [];
    readonly SemaphoreSlim _wake = new(0);
    readonly Lock _gate = new();
    readonly InstanceMetrics _metrics = new(client, options.Instances, log);
    readonly PortPool _ports = new(options.Instances);
    readonly Dictionary<Guid, long> _fresh = []; // releases being kept → the sync count after which the server knows them
    readonly Dictionary<Guid, Task> _tasks = []; // tasks (backups, verifications, restores) running, by id
    long _syncs;

    /// <summary>The sandbox uids this runner's servers and one-off jobs (a restore's psql, a neutralize) take from.</summary>
    public SandboxUids Uids => uids;

    sealed record Hosted(InstanceProcess Process, LogBatcher Logs, int HttpPort, int GeventPort);

    /// <summary>How long a replaced development or staging server keeps answering after the switch.</summary>
    static readonly TimeSpan SwitchGrace = TimeSpan.FromSeconds(3);

    /// <summary>Something changed (a build's result, a state): sync now rather than at the next tick.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var metrics = _metrics.RunAsync(Running, stopping);
        while (!stopping.IsCancellationRequested)
        {
            try { await SyncOnceAsync(stopping); }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception e) when (e is HttpRequestException or LeaseLostException or System.Text.Json.JsonException or TaskCanceledException or IOException)
            {
                log.LogWarning("Instance sync failed ({Message}); trying again shortly.", e.Message);
            }
            try { await _wake.WaitAsync(options.Instances.SyncInterval, stopping); }
            catch (OperationCanceledException) { break; }
        }
        await metrics;
        Task[] tasks;
        lock (_gate) tasks = [.. _tasks.Values];
        await Task.WhenAll(tasks); // stopped by the same token: each ends without a result, and its lease runs out
        await StopAllAsync("the runner is stopping");
    }

    IReadOnlyList<(InstanceSpec Spec, InstanceProcess Process, RequestStats Requests)> Running()
    {
        lock (_gate)
            return [.. _hosted.Values.Where(h => h.Process.State is "running" or "unhealthy")
                .Select(h => (h.Process.Spec, h.Process, h.Process.Requests))];
    }

    /// <summary>
    /// A build is keeping its release (<paramref name="reported"/> false), or has reported it (true): until a sync
    /// that started after the report, no answer may delete it (one sent before the build's result does not list it).
    /// </summary>
    public void Protect(Guid buildId, bool reported)
    {
        lock (_gate) _fresh[buildId] = reported ? _syncs : long.MaxValue;
    }

    async Task SyncOnceAsync(CancellationToken ct)
    {
        List<InstanceReport> reports;
        long sync;
        lock (_gate)
        {
            sync = ++_syncs;
            reports = [.. _hosted.Values.Select(h => h.Process.Report())];
            reports.AddRange(_cleaned.Select(id => new InstanceReport(id, "stopped", null, null, null, null, 0, 0, null, null, null, Cleaned: true)));
        }
        var answer = await client.SyncInstancesAsync(new SyncRequest(options.Instances.AdvertisedAddress, reports, [.. _ingestTokens.Keys]), ct);
        foreach (var (project, token) in answer.IngestTokens) _ingestTokens[project] = token;
        // A project no longer hosted here has its token revoked by the server: forget it, to be given a new one later.
        var hosted = answer.Instances.Where(s => !s.Retired).Select(s => s.ProjectId).ToHashSet();
        foreach (var project in _ingestTokens.Keys.Where(p => !hosted.Contains(p)).ToList()) _ingestTokens.Remove(project);
        _metrics.Tokens = new Dictionary<Guid, string>(_ingestTokens);
        var wanted = answer.Instances.ToDictionary(s => s.InstanceId);
        lock (_gate) _cleaned.IntersectWith(wanted.Keys); // the server forgets cleaned ones; so do we
        // Each instance on its own: a slow stop (its grace) never holds up another's start.
        List<Guid> gone;
        lock (_gate) gone = [.. _hosted.Keys.Where(id => !wanted.ContainsKey(id))];
        await Task.WhenAll([.. answer.Instances.Select(spec => GuardedAsync(spec, ct)), .. gone.Select(id => ForgetAsync(id, "no longer placed on this runner"))]);
        // After the instances: a task finds the instance it works on hosted (after a runner restart too).
        foreach (var task in answer.Tasks) StartTask(task, ct);
        lock (_gate)
            foreach (var (build, after) in _fresh.Where(f => f.Value < sync).ToList()) _fresh.Remove(build);
        // Asked per folder, under the lock: a build may keep its release while the folders are being read.
        Releases.Prune(options.WorkDir, answer.KeepReleases.ToHashSet(), build =>
        {
            lock (_gate) return _fresh.ContainsKey(build) || _hosted.Values.Any(h => h.Process.Spec.BuildId == build);
        });
    }

    /// <summary>A task leased with the answer runs beside the sync loop; one already running here is not started twice.</summary>
    void StartTask(RunnerTask task, CancellationToken stopping)
    {
        lock (_gate)
        {
            if (_tasks.ContainsKey(task.TaskId)) return;
            _tasks[task.TaskId] = Task.Run(async () =>
            {
                try { await new Tasks.TaskExecutor(client, options, this, log).RunAsync(task, stopping); }
                catch (Exception e) { log.LogError(e, "Task {TaskId} ended unexpectedly.", task.TaskId); }
                finally { lock (_gate) _tasks.Remove(task.TaskId); }
            }, CancellationToken.None);
        }
    }

    /// <summary>One instance's trouble (no free port, a database error) is that instance's: the others, and the loop, go on.</summary>
    async Task GuardedAsync(InstanceSpec spec, CancellationToken ct)
    {
        try { await ReconcileAsync(spec, ct); }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            log.LogError(e, "Instance {InstanceId}: {Message}", spec.InstanceId, e.Message);
        }
    }

    async Task ReconcileAsync(InstanceSpec spec, CancellationToken ct)
    {
        Hosted? hosted;
        lock (_gate) _hosted.TryGetValue(spec.InstanceId, out hosted);
        if (spec.Retired)
        {
            lock (_gate) if (_cleaned.Contains(spec.InstanceId)) return;
            // Replaced by a newer instance that now answers (development, staging): requests already routed here, and
            // proxies whose route has not been dropped yet, finish first.
            if (hosted is not null && spec.Stage != "production" && hosted.Process.State == "running") await Task.Delay(SwitchGrace, ct);
            if (hosted is not null) await ForgetAsync(spec.InstanceId, "retired");
            if (spec.DropDatabase && options.Instances.Database is { } database)
            {
                try { await database.DropDatabaseAsync(spec.DatabaseName, ct); }
                catch (Npgsql.NpgsqlException e)
                {
                    log.LogWarning("Instance {InstanceId}: its database {Database} could not be dropped yet ({Message}).", spec.InstanceId, spec.DatabaseName, e.Message);
                    return;
                }
            }
            if (spec.DropDatabase) Execution.WorkspaceFolder.Delete(InstanceLaunch.DataDirOf(options.WorkDir, spec));
            lock (_gate) _cleaned.Add(spec.InstanceId);
            Wake();
            return;
        }
        bool paused;
        lock (_gate) paused = _paused.ContainsKey(BranchKey(spec.ProjectId, spec.Branch));
        var shouldRun = spec.Desired == "running" && !paused;
        if (hosted is null)
        {
            if (shouldRun) Start(spec);
            return;
        }
        var process = hosted.Process;
        if (!shouldRun)
        {
            if (process.State != "stopped") await process.StopAsync(paused ? "stopped while its database changes" : "stopped on request");
            return;
        }
        // A new restart generation, or a start asked for after a stop or a failure: a fresh server.
        if (spec.RestartGeneration != process.Generation || process.State == "stopped"
            || (process.State == "failed" && spec.RestartGeneration != process.Generation))
        {
            await ForgetAsync(spec.InstanceId, "restarting on request");
            Start(spec);
        }
    }

    void Start(InstanceSpec spec)
    {
        var (http, gevent) = _ports.Take();
        var mask = new SecretMask(spec.SecretNames.Select(name => spec.Env.TryGetValue(name, out var value) ? value : ""));
        var logs = new LogBatcher(async (lines, ct) =>
        {
            try
            {
                await client.InstanceLogsAsync(spec.InstanceId, [.. lines.Select(l => new InstanceLogLine(l.Seq, l.Timestamp.UtcDateTime,
                    Pipeline.OdooLogLine.Level(l.Text)?.ToString().ToUpperInvariant() ?? "INFO", l.Text))], ct);
            }
            catch (HttpRequestException e) when (!DispatchClient.IsTransient(e))
            {
                log.LogWarning("Instance {InstanceId}: the server refused log lines ({Message}); they are dropped.", spec.InstanceId, e.Message);
            }

        }, spec.LogSeqNext, new LogBatcherOptions() with { Redact = mask.IsEmpty ? null : mask.Apply });
        var process = new InstanceProcess(new InstanceLaunch(spec, options, uids, http, gevent, logs), Wake, log);
        lock (_gate)
        {
            // Checked with the insert, under the lock: a pause that began since the reconcile looked (while an old server
            // stopped) either sees this one hosted and stops it, or this one sees the pause and does not start.
            if (_paused.ContainsKey(BranchKey(spec.ProjectId, spec.Branch)))
            {
                _ = process.DisposeAsync().AsTask();
                _ = logs.DisposeAsync().AsTask();
                _ports.Give(http, gevent);
                return;
            }
            _hosted[spec.InstanceId] = new Hosted(process, logs, http, gevent);
        }
        log.LogInformation("Instance {InstanceId} of {Project}/{Branch} (build {BuildId}) starting on ports {Http}/{Gevent}.",
            spec.InstanceId, spec.ProjectSlug, spec.Branch, spec.BuildId, http, gevent);
        process.Start();
    }

    async Task ForgetAsync(Guid id, string reason)
    {
        Hosted? hosted;
        lock (_gate) _hosted.Remove(id, out hosted);
        if (hosted is null) return;
        await hosted.Process.StopAsync(reason);
        await hosted.Process.DisposeAsync();
        await hosted.Logs.DisposeAsync();
        _ports.Give(hosted.HttpPort, hosted.GeventPort);
    }

    /// <summary>
    /// Stops the production server of a branch for its update (the existing update step then runs on its database) and
    /// keeps it stopped until the handle is disposed; the server decides what runs next (the new release, or this one
    /// again when the build failed).
    /// </summary>
    public Task<IAsyncDisposable> PauseForUpdateAsync(Guid projectId, string branch, Guid buildId) =>
        PauseBranchAsync(projectId, branch, $"stopped for the update of build {buildId}");

    /// <summary>
    /// Stops every server of a branch and keeps them stopped until the handle is disposed: its database is being
    /// changed (a production update, a restore). By branch, not by the process hosted now: a restart in progress or the
    /// first sync after a runner restart must not start a server while its database is replaced under it.
    /// </summary>
    public async Task<IAsyncDisposable> PauseBranchAsync(Guid projectId, string branch, string reason)
    {
        var key = BranchKey(projectId, branch);
        List<Hosted> targets;
        lock (_gate)
        {
            _paused[key] = _paused.GetValueOrDefault(key) + 1;
            targets = [.. _hosted.Values.Where(h => h.Process.Spec is { Retired: false } s && s.ProjectId == projectId && s.Branch == branch)];
        }
        foreach (var target in targets) await target.Process.StopAsync(reason);
        return new Resume(this, key);
    }

    /// <summary>The production instance of a branch this runner hosts now (the release an update replaces), if any.</summary>
    public InstanceSpec? ProductionSpec(Guid projectId, string branch)
    {
        lock (_gate)
            return _hosted.Values.Select(h => h.Process.Spec)
                .FirstOrDefault(s => s is { Stage: "production", Retired: false } && s.ProjectId == projectId && s.Branch == branch);
    }

    /// <summary>The spec of an instance this runner hosts (its data dir, its release), if it hosts it now.</summary>
    public InstanceSpec? HostedSpec(Guid instanceId)
    {
        lock (_gate) return _hosted.TryGetValue(instanceId, out var hosted) ? hosted.Process.Spec : null;
    }

    static string BranchKey(Guid projectId, string branch) => $"{projectId:N}/{branch}";

    sealed class Resume(InstanceSupervisor supervisor, string key) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (supervisor._gate)
                if (supervisor._paused.TryGetValue(key, out var count) && count > 1) supervisor._paused[key] = count - 1;
                else supervisor._paused.Remove(key);
            supervisor.Wake();
            return ValueTask.CompletedTask;
        }
    }

    async Task StopAllAsync(string reason)
    {
        List<Guid> ids;
        lock (_gate) ids = [.. _hosted.Keys];
        await Task.WhenAll(ids.Select(id => ForgetAsync(id, reason)));
    }

    public async ValueTask DisposeAsync() => await StopAllAsync("the runner is stopping");
}
