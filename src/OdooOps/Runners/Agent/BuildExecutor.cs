using OdooOps.Builds;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Pipeline;
using OdooOps.Runners.Agent.Sandbox;
using static OdooOps.Runners.Protocol.RunnerProtocol;
using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Agent;

/// <summary>What a runner is configured with (the `runner` verb's options, or `serve`'s embedded runner).</summary>
internal sealed record RunnerOptions(string Name, int Capacity, IReadOnlyList<string> Labels, string WorkDir)
{
    /// <summary>Odoo's odoo-bin on this runner (OPS_ODOO_BIN / --odoo-bin); without it the Odoo step is skipped.</summary>
    public string? OdooBin { get; init; }

    /// <summary>Failed builds' workspaces kept for inspection (the newest N).</summary>
    public int KeepFailedWorkspaces { get; init; } = 3;

    /// <summary>The OS user steps run as (the runner runs as root); null: the runner's own user.</summary>
    public StepUser? StepUser { get; init; }

    /// <summary>
    /// How long a killed step's processes get between SIGTERM and SIGKILL: on cancel, timeout, and when the runner stops
    /// (so a stopping `serve` or `odooops runner` takes about this long with a build running).
    /// </summary>
    public TimeSpan KillGrace { get; init; } = ProcessOptions.Default.KillGrace;

    /// <summary>How builds are contained (OPS_SANDBOX_*; OPS_RUNNER_UNSANDBOXED=1 turns it off).</summary>
    public SandboxSettings Sandbox { get; init; } = new();

    /// <summary>Fetch local paths and file:// repositories (OPS_ALLOW_LOCAL_REPOS=1): demo data and tests only.</summary>
    public bool AllowLocalRepositories { get; init; }

    /// <summary>How this runner hosts instances (OPS_RUNNER_INSTANCES, OPS_INSTANCE_*, OPS_ODOO_DB).</summary>
    public Instances.InstanceHosting Instances { get; init; } = new() { Enabled = false };

    /// <summary>
    /// Whether this runner can host instances: enabled, with Odoo and a database server for it, and sandboxed (a tenant's
    /// server for days as the runner's own user would read its token and its host).
    /// </summary>
    public bool HostsInstances => Instances.Enabled && OdooBin is { Length: > 0 } && Instances.Database is not null && Sandbox.Enabled;

    /// <summary>Where the builds' log batchers report what they held and dropped (none: not measured).</summary>
    public LogQueueMeter? LogQueue { get; init; }
}

/// <summary>
/// Runs one leased build: heartbeats, checkout, pipeline (.odooops.yml or Odoo-aware defaults), steps as processes
/// with their output streamed to the server, the result. Stops at once, reporting nothing more, when the lease is lost;
/// kills the steps and reports <c>cancelled</c> when a cancel is requested; when the runner itself stops, kills the
/// steps and hands the build back (queued again at once); the rescuer covers a hand-back that does not get through.
/// </summary>
internal sealed partial class BuildExecutor(DispatchClient client, RunnerOptions options, ILogger log, Instances.InstanceSupervisor? instances = null)
{
    readonly SandboxUids _uids = new(options.Sandbox);

    public async Task RunAsync(Job job, CancellationToken stopping)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stopping); // stops the build's steps
        using var reported = new CancellationTokenSource(); // stops the heartbeat: only once the result is in
        var state = new JobState();
        await using var logs = new LogBatcher(async (lines, ct) =>
        {
            try
            {
                return (await client.LogsAsync(job, [.. lines.Select(l => new RunnerProtocol.LogLine(l.Seq, l.Timestamp.UtcDateTime, l.Stream, l.Text))], ct)).Cut;
            }
            catch (LeaseLostException) { state.LeaseLost(abort); }
            catch (HttpRequestException e) when (!DispatchClient.IsTransient(e))
            {
                // Refused as it is (400): sending the same lines again cannot help, and holding them would stall the log.
                log.LogError("Build {BuildId}: the server refused log lines {First}–{Last} ({Message}); they are dropped.",
                    job.BuildId, lines[0].Seq, lines[^1].Seq, e.Message);
            }
            return false;
        }, job.LogSeqStart, LogOptions(job, options.LogQueue));
        // The lease is kept alive until the result is reported, not just while steps run: cleaning up and reporting
        // may take longer than the lease, and a lease that runs out re-queues a finished build.
        var heartbeat = HeartbeatAsync(job, state, abort, reported.Token);
        var workspace = new GitWorkspace(options.WorkDir, new GitWorkspaceOptions { KeepFailed = options.KeepFailedWorkspaces });
        var (result, detail) = ("", "");
        try
        {
            (result, detail) = await ExecuteGuardedAsync(job, workspace, logs, state, abort);
            if (result.Length == 0)
            {
                log.LogWarning("Build {BuildId}: {Reason}; not reporting a result.", job.BuildId,
                    state.IsLeaseLost ? "the lease was lost" : state.Unreachable ? "the server is unreachable" : "the runner is stopping");
                if (!state.IsLeaseLost && !state.Unreachable) await HandBackAsync(job, logs);
                return;
            }
            if (result is BuildStatus.Success or BuildStatus.Warning) state.SafeDeploy?.Settle();
            var release = await KeepReleaseAsync(job, state, result, logs);
            logs.Add(LogStream.System, $"Result: {result}{(detail.Length > 0 ? $" — {detail}" : "")}", DateTimeOffset.UtcNow);
            await ReportAsync(job, logs, result, detail, release, state.Reverted);
            state.ReleaseRecorded = release is not null;
            if (release is not null) instances!.Protect(job.BuildId, reported: true);
            instances?.Wake();
        }
        finally
        {
            // Whatever the build started ends here, before production starts again and its workspace is kept or deleted.
            if (state.Sandbox is { } sandbox) await sandbox.EndAsync();
            // A production update that ends without a result (the lease lost, the runner stopping) is undone too: the
            // previous release must not start on a half-updated database, nor a retry back up that state.
            if (result is not (BuildStatus.Success or BuildStatus.Warning) && state is { SafeDeploy: not null, RevertTried: false })
                await RevertIfNeededAsync(state, BuildStatus.Failed, "");
            if (state.Paused is { } paused) await paused.DisposeAsync();
            SafeDeploy.CleanUp(options, job.BuildId);
            if (state.DatabaseMade && !state.ReleaseRecorded && options.Instances.Database is { } odooDb)
            {
                // A failed, cancelled or handed-back build's own database and filestore: no instance will run on them.
                try { await odooDb.DropDatabaseAsync(state.Database!, CancellationToken.None); }
                catch (Npgsql.NpgsqlException e) { log.LogWarning("Build {BuildId}: its database {Database} could not be dropped ({Message}).", job.BuildId, state.Database, e.Message); }
                if (state.DataDir is { } dataDir)
                    try { Backups.SafeFolder.OpenIfExists(Path.GetDirectoryName(dataDir)!)?.Delete(Path.GetFileName(dataDir)); }
                    catch (IOException e) { log.LogWarning("Build {BuildId}: its data dir could not be removed ({Message}).", job.BuildId, e.Message); }
            }
            await reported.CancelAsync();
            await heartbeat;
            try { workspace.Release(job.BuildId, failed: result is not (BuildStatus.Success or BuildStatus.Warning)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("Build {BuildId}: its workspace could not be cleaned up ({Message}).", job.BuildId, e.Message);
            }
        }
    }

    /// <summary>
    /// The build's result, or "" when there is none to report: the lease was lost, the server stayed unreachable, or
    /// the runner is stopping mid-build (a build that finished before the stop keeps its result). Anything unexpected
    /// inside the runner fails the build with the reason, rather than leaving it to be re-run.
    /// </summary>
    async Task<(string Result, string Detail)> ExecuteGuardedAsync(Job job, GitWorkspace workspace, LogBatcher logs, JobState state,
        CancellationTokenSource abort)
    {
        try
        {
            var (result, detail) = await ExecuteAsync(job, workspace, logs, state, abort.Token);
            // The pipeline says "cancelled" whenever its token fired: only a cancel request makes that the result.
            if (result == BuildStatus.Cancelled && !state.Cancelled) return ("", "");
            return await RevertIfNeededAsync(state, result, detail);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            return state.Cancelled ? await RevertIfNeededAsync(state, BuildStatus.Cancelled, "Cancelled on request.") : ("", "");
        }
        catch (LeaseLostException)
        {
            state.LeaseLost(abort);
            return ("", "");
        }
        catch (HttpRequestException e)
        {
            // The server stayed unreachable through the retries: the lease runs out and the rescuer re-queues the build.
            log.LogError("Build {BuildId}: reporting to the server failed ({Message}); leaving the build to the rescuer.", job.BuildId, e.Message);
            state.Unreachable = true;
            return ("", "");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException
                                   or Npgsql.NpgsqlException or Backups.BackupException)
        {
            log.LogError(e, "Build {BuildId} failed inside the runner.", job.BuildId);
            logs.Add(LogStream.System, $"The runner failed: {e.Message}", DateTimeOffset.UtcNow);
            return (BuildStatus.Failed, $"The runner failed: {e.Message}");
        }
    }

    /// <summary>The instance's data dir, written by the build's Odoo: bound into the sandbox and handed to the build's uid.</summary>
    async Task OwnDataDirAsync(JobState state, string dataDir, CancellationToken ct)
    {
        if (state.Sandbox is { } sandbox)
        {
            sandbox.AlsoBindWritable(dataDir);
            await sandbox.OwnAsync(dataDir, ct);
        }
        else if (options.StepUser is { } owner) await owner.OwnAsync(dataDir, ct);
    }

    /// <summary>A production update that did not succeed, after a pre-deploy backup: that backup goes back, the old release starts again.</summary>
    async Task<(string Result, string Detail)> RevertIfNeededAsync(JobState state, string result, string detail)
    {
        if (result is BuildStatus.Success or BuildStatus.Warning || state.SafeDeploy is not { } safe || options.Instances.Database is not { } server
            || state.RevertTried)
            return (result, detail);
        state.RevertTried = true;
        state.Reverted = await safe.RevertAsync(server, _uids, state.Database!);
        return state.Reverted is { ToBuildId: { } to }
            ? (BuildStatus.Failed, $"{detail} Reverted to build {to}: the database and filestore were restored from the pre-deploy backup.".Trim())
            : (result, detail);
    }

    /// <summary>
    /// The runner is stopping mid-build: its last log lines, then the build back to the queue at once (rather than
    /// when the lease runs out). If that fails, the rescuer still re-queues it after the lease.
    /// </summary>
    async Task HandBackAsync(Job job, LogBatcher logs)
    {
        try
        {
            using (var flush = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                try { await logs.FlushAsync(flush.Token); }
                catch (OperationCanceledException) { }
            }
            var status = await client.ReleaseAsync(job, $"runner {options.Name} stopping", CancellationToken.None);
            log.LogInformation("Build {BuildId} handed back: {Status}.", job.BuildId, status);
        }
        catch (Exception e) when (e is LeaseLostException or HttpRequestException)
        {
            log.LogWarning("Build {BuildId}: could not hand it back ({Message}); it is re-queued when its lease runs out.", job.BuildId, e.Message);
        }
    }

    /// <summary>
    /// A successful build's checkout becomes its release, which this runner then runs as an instance on the build's
    /// database; null when the runner hosts no instances (or the release could not be kept: the build log says why).
    /// </summary>
    async Task<BuildRelease?> KeepReleaseAsync(Job job, JobState state, string result, LogBatcher logs)
    {
        if (instances is null || state.Checkout is null || result is not (BuildStatus.Success or BuildStatus.Warning)) return null;
        try
        {
            instances.Protect(job.BuildId, reported: false);
            await Instances.Releases.KeepAsync(options.WorkDir, job.BuildId, state.Checkout, CancellationToken.None);
            logs.Add(LogStream.System, $"Release kept on {options.Name}: its instance starts on database {state.Database}", DateTimeOffset.UtcNow);
            return new BuildRelease(state.Database);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logs.Add(LogStream.System, $"The release could not be kept ({e.Message}): no instance starts for this build", DateTimeOffset.UtcNow);
            return null;
        }
    }

    /// <summary>The last log lines (given at most half a minute), then the result.</summary>
    async Task ReportAsync(Job job, LogBatcher logs, string result, string detail, BuildRelease? release = null, BuildRevert? reverted = null)
    {
        try
        {
            using (var flush = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                try { await logs.FlushAsync(flush.Token); }
                catch (OperationCanceledException) { log.LogWarning("Build {BuildId}: the last log lines could not be sent in time.", job.BuildId); }
            }
            await client.DoneAsync(job, result, detail, CancellationToken.None, release, reverted);
        }
        catch (LeaseLostException) { log.LogWarning("Build {BuildId}: the lease was lost before the result was reported.", job.BuildId); }
        catch (HttpRequestException e) { log.LogError("Build {BuildId}: the result could not be reported ({Message}).", job.BuildId, e.Message); }
    }

    /// <summary>Masks the job's secret variables in its log (<see cref="SecretMask"/>); retries wait as long as the server asks.</summary>
    static LogBatcherOptions LogOptions(Job job, LogQueueMeter? meter)
    {
        var mask = new SecretMask(job.SecretNames.Select(name => job.Env.TryGetValue(name, out var value) ? value : ""));
        var options = new LogBatcherOptions();
        return options with
        {
            Redact = mask.IsEmpty ? null : mask.Apply,
            Meter = meter,
            RetryDelay = (e, own) => DispatchClient.NextDelay(e, own, options.MaxRetryDelay),
        };
    }

    /// <summary>
    /// The database Odoo uses for a build: production keeps one per project (named after the project's id, so two
    /// organisations' projects of the same slug never share it) that each build updates, so "update the modules whose
    /// version changed" acts on what the previous builds installed; a development or staging build gets its own (named
    /// after the build id), dropped when its Odoo step ends. As much of the project slug as fits PostgreSQL's 63-byte
    /// names goes first, for people reading a database list; the unique part is always whole (hashed beyond 32).
    /// </summary>
    internal static string OdooDatabaseName(string projectSlug, string unique)
    {
        // Odoo accepts database names of letters, digits, '_', '.' and '-' only.
        unique = unique.Length > 32
            ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(unique)))[..32]
            : string.Concat(unique.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-'));
        return $"oo-{projectSlug[..Math.Min(projectSlug.Length, 63 - 3 - 1 - unique.Length)]}-{unique}";
    }

    async Task<(string Result, string Detail)> ExecuteAsync(Job job, GitWorkspace workspace, LogBatcher logs, JobState state, CancellationToken ct)
    {
        void System(string text) => logs.Add(LogStream.System, text, DateTimeOffset.UtcNow);
        System($"Attempt {job.Attempt} on runner {options.Name}: {job.ProjectSlug} {job.Branch} ({job.Stage}), " +
               $"{(job.CommitSha is { } sha ? $"commit {sha}" : "branch head")} of {GitRunner.Redact(job.RepoUrl)}");

        if (options.Sandbox.Enabled)
        {
            // Odoo's own tree (where odoo-bin lives) is read by the Odoo step.
            var settings = options.OdooBin is { Length: > 0 } odoo && Path.GetDirectoryName(Path.GetFullPath(odoo)) is { } odooTree
                ? options.Sandbox with { ExtraReadOnlyPaths = [.. options.Sandbox.ExtraReadOnlyPaths, odooTree] }
                : options.Sandbox;
            state.Sandbox = await BuildSandbox.CreateAsync(settings, _uids, options.WorkDir, job.BuildId, ct);
            System($"{state.Sandbox.Limits}; {(job.NetworkAccess ? "outbound network allowed" : "no network for the steps")}");
        }
        var checkoutWorkspace = new GitWorkspace(options.WorkDir, new GitWorkspaceOptions
        {
            KeepFailed = options.KeepFailedWorkspaces, Sandbox = state.Sandbox,
            AllowLocalRepositories = options.AllowLocalRepositories, Credential = job.GitCredential,
        });
        GitCheckout checkout;
        try { checkout = await checkoutWorkspace.CheckoutAsync(job.BuildId, new GitSource(job.RepoUrl, job.Branch, job.CommitSha), line => logs.Add(line), ct); }
        catch (GitCheckoutException e)
        {
            System(e.Message);
            return (BuildStatus.Failed, e.Message);
        }
        var scan = AddonFinder.Find(checkout.Directory);
        foreach (var problem in scan.Problems) System($"Addon skipped: {problem}");
        System($"Checked out {checkout.CommitSha[..Math.Min(12, checkout.CommitSha.Length)]} \"{checkout.Subject}\"; " +
               $"{scan.Modules.Count} Odoo module(s){(scan.Modules.Count > 0 ? ": " + string.Join(", ", scan.Modules.Select(m => m.Name)) : "")}");
        var requirements = Deployments.DeployPlan.RequirementsSha256(checkout.Directory);
        await client.SourceAsync(job, checkout.CommitSha, checkout.Subject,
            [.. scan.Modules.Select(m => new Module(m.Name, m.Path, m.Title, m.Version, m.Depends, m.Installable))], ct, requirements);

        var database = OdooDatabaseName(job.ProjectSlug, (job.Stage == "production" ? job.ProjectId : job.BuildId).ToString("N"));
        (state.Checkout, state.Database) = (checkout.Directory, database);
        // With instances, the build's Odoo writes the filestore its instance will run with; a staging build starts from production's.
        var dataDir = instances is null ? null : Instances.InstanceLaunch.DataDirOf(options.WorkDir, job.BranchId, job.Stage, database);
        var stagingCopy = dataDir is not null && job.Stage == OdooDefaultPipeline.Staging && job.StagingSource is not null;
        // What a production update changes, by the dry run's rule: logged below, and it decides the pre-deploy backup.
        var deployed = job.DeployedModules?.Select(m => new ModuleVersion(m.Name, m.Version)).ToList();
        var plan = Deployments.DeployPlan.Compute(scan.Modules, deployed, requirements, job.DeployedRequirementsSha256);
        PipelineDefinition pipeline;
        try
        {
            var custom = PipelineFile.TryLoad(checkout.Directory);
            pipeline = custom ?? OdooDefaultPipeline.Build(job.Stage, scan.Modules,
                File.Exists(Path.Combine(checkout.Directory, "requirements.txt")), options.OdooBin, database,
                deployed ?? [], keepDatabase: instances is not null, dataDir, stagingCopy);
            // Before a production update, its log says what it installs and updates, and why (the dry run's same rule).
            if (custom is null && job.Stage == OdooDefaultPipeline.Production)
                foreach (var line in plan.Describe()) System(line);
        }
        catch (PipelineFileException e)
        {
            System($"{PipelineFile.FileName}: {e.Message}");
            return (BuildStatus.Failed, $"{PipelineFile.FileName}: {e.Message}");
        }

        var env = new Dictionary<string, string>(job.Env)
        {
            ["ODOOOPS_BUILD_ID"] = job.BuildId.ToString(), ["ODOOOPS_PROJECT"] = job.ProjectSlug, ["ODOOOPS_BRANCH"] = job.Branch,
            ["ODOOOPS_STAGE"] = job.Stage, ["ODOOOPS_COMMIT"] = checkout.CommitSha,
        };
        if (instances is not null && options.Instances.Database is { } odooDb)
        {
            // The build's Odoo works on the database its instance will run on, as the project's own database role.
            var production = job.Stage == "production";
            await odooDb.EnsureDatabaseAsync(job.ProjectId, production, database, ct);
            state.DatabaseMade = !production;
            foreach (var (name, value) in odooDb.OdooEnvironment(job.ProjectId, production)) env[name] = value;
            state.Sandbox?.AlsoBind(odooDb.SocketBinds);
            Directory.CreateDirectory(dataDir!);
            state.DataDir = production ? null : dataDir; // production's is the branch's, kept
            if (stagingCopy)
            {
                stagingCopy = await new StagingRefresh(client, options, instances, _uids, job, System).CopyAsync(odooDb, job.StagingSource!, database, dataDir!, ct);
                // Neutralised before the staging code runs on it (its update, a custom pipeline's steps), and again after.
                if (stagingCopy) await Neutralise(job, database, checkout.Directory, ct);
            }
            if (job.Stage == "production")
            {
                state.Paused = await instances.PauseForUpdateAsync(job.ProjectId, job.Branch, job.BuildId);
                await OwnDataDirAsync(state, dataDir!, ct); // only once production's server is stopped
                if (instances.ProductionSpec(job.ProjectId, job.Branch) is { } previous && plan.ChangesAnything)
                {
                    state.SafeDeploy = new SafeDeploy(client, options, job, previous, text => logs.Add(LogStream.System, text, DateTimeOffset.UtcNow));
                    if (!await state.SafeDeploy.BackupAsync(odooDb, database, ct))
                    {
                        state.SafeDeploy = null;
                        return (BuildStatus.Failed, "The pre-deploy backup failed: the update did not run, production is unchanged.");
                    }
                }
            }
            else await OwnDataDirAsync(state, dataDir!, ct);
        }
        if (state.Sandbox is null && options.StepUser is { } user)
        {
            // The steps' own HOME (pip, npm and git want one they can write), inside the workspace they now own.
            env["HOME"] = Directory.CreateDirectory(Path.Combine(checkout.Directory, ".odooops-home")).FullName;
            await user.OwnAsync(checkout.Directory, ct);
        }
        var (result, detail) = await new PipelineRun(client, job, logs, options, state.Sandbox).RunAsync(pipeline, checkout.Directory, env, ct);
        // A copy of production never runs as it is: neutralised and checked (again: the update may have switched things
        // back on), or its server does not start.
        if (stagingCopy && result is BuildStatus.Success or BuildStatus.Warning) await Neutralise(job, database, checkout.Directory, ct);
        return (result, detail);

        async Task Neutralise(Job job, string database, string release, CancellationToken ct) =>
            await new Tasks.Neutralisation(options, _uids, System).RunAsync(job.ProjectId, database, job.OdooVersion, release, job.BaseUrl ?? "http://localhost", ct);
    }

    /// <summary>
    /// Renews the lease every second until <paramref name="until"/>; a cancel request, a lost lease, a disabled runner or
    /// a lease that ran out while the server could not be reached aborts the build's steps.
    /// </summary>
    async Task HeartbeatAsync(Job job, JobState state, CancellationTokenSource abort, CancellationToken until)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(HeartbeatSeconds));
        var renewed = System.Diagnostics.Stopwatch.StartNew(); // since the claim or the last renewal, on this host's clock
        try
        {
            while (await timer.WaitForNextTickAsync(until))
            {
                try
                {
                    var extended = await client.ExtendAsync(job, until);
                    renewed.Restart();
                    if (extended.CancelRequested) { state.Cancel(); await abort.CancelAsync(); }
                }
                catch (LeaseLostException) { state.LeaseLost(abort); }
                catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                {
                    // Disabled by an admin (its leases were ended too): stop now rather than at the next report.
                    log.LogWarning("Build {BuildId}: the server no longer accepts this runner's token; stopping the build.", job.BuildId);
                    state.LeaseLost(abort);
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException)
                {
                    log.LogWarning("Build {BuildId}: heartbeat failed ({Message}); retrying.", job.BuildId, e.Message);
                    // Past the lease's end the rescuer may have handed the build to another runner: running on would run it twice.
                    if (renewed.Elapsed > TimeSpan.FromSeconds(job.LeaseTtlSeconds) && !state.IsLeaseLost)
                    {
                        log.LogWarning("Build {BuildId}: no heartbeat got through for the lease's {Seconds} s; stopping the build.", job.BuildId, job.LeaseTtlSeconds);
                        state.LeaseLost(abort);
                    }
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
