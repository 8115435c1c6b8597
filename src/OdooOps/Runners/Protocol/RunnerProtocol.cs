using OdooOps.Builds;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OdooOps.Runners.Protocol;

/// <summary>
/// The whole runner ↔ server contract, version 1 (docs/runner-protocol.md tells the same story for people).
///
/// A runner is a process that executes builds: `odooops runner` on any host, or the one `odooops serve` starts
/// in-process, which speaks this same HTTP protocol over loopback. A runner holds no database credentials; everything
/// it does goes through these calls, each a JSON POST under <see cref="Base"/> (snake_case names, ProblemDetails on
/// errors), authenticated by <c>Authorization: Bearer oo_run_…</c> except <see cref="Register"/>.
///
/// The life of a job:
///  1. <see cref="Register"/> once: an org admin's registration token (oo_reg_…) buys a runner token, which the
///     runner keeps (the server stores only its SHA-256).
///  2. <see cref="Next"/>: a long poll (up to <see cref="MaxWaitSeconds"/>). The server leases queued builds to the
///     runner within its free capacity and labels and answers them at once; with none it waits for an enqueue
///     (PostgreSQL NOTIFY) and answers 204 No Content when the wait runs out. The runner polls again.
///  3. While it runs the build, every <see cref="HeartbeatSeconds"/> s, <see cref="Extend"/>: renews the lease (it
///     lasts <see cref="Job.LeaseTtlSeconds"/> s from each renewal) and answers whether a cancel was requested; on
///     <c>cancel_requested</c> the runner kills the build's processes and reports <c>cancelled</c>.
///  4. <see cref="Source"/> once the repository is checked out (resolved commit, Odoo modules found);
///     <see cref="Logs"/> in batches of numbered lines (sequence numbers continue from <see cref="Job.LogSeqStart"/>;
///     a batch sent twice is stored once); <see cref="Step"/> when a step starts and when it ends.
///  5. <see cref="Done"/> with the result. The lease ends; the build leaves the queue. A runner that stops before the
///     build is over hands it back with <see cref="Release"/> instead, so that it is queued again at once.
///
/// Every call after the claim names the lease (<c>lease_id</c>). If the lease is gone — it expired and the rescuer
/// re-queued the build for another runner, or the build was already finished — the server answers 409 Conflict and
/// changes nothing: the runner must stop that build at once and report nothing more. That is how a build is never
/// completed twice. 401 means the runner token is unknown or the runner was disabled.
/// </summary>
public static partial class RunnerProtocol
{
    public const string Base = "/api/runner/v1";

    /// <summary>Bodies are JSON with snake_case names, like the rest of the API.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    public const string Register = Base + "/register";
    public const string Next = Base + "/jobs/next";
    public static string Extend(Guid buildId) => $"{Base}/jobs/{buildId}/extend";
    public static string Source(Guid buildId) => $"{Base}/jobs/{buildId}/source";
    public static string Logs(Guid buildId) => $"{Base}/jobs/{buildId}/logs";
    public static string Step(Guid buildId, int seq) => $"{Base}/jobs/{buildId}/steps/{seq}";
    public static string Done(Guid buildId) => $"{Base}/jobs/{buildId}/done";
    public static string Release(Guid buildId) => $"{Base}/jobs/{buildId}/release";

    public const string RunnerTokenPrefix = "oo_run_";
    public const string RegistrationTokenPrefix = "oo_reg_";

    /// <summary>The longest a <see cref="Next"/> poll is held open; a runner's HTTP timeout must be longer.</summary>
    public const int MaxWaitSeconds = 30;

    /// <summary>How often a runner calls <see cref="Extend"/> per running build: a cancel reaches it within this.</summary>
    public const int HeartbeatSeconds = 1;

    /// <summary>At most this many lines per <see cref="Logs"/> call, each at most <see cref="MaxLineChars"/>.</summary>
    public const int MaxLinesPerBatch = 1000;
    public const int MaxLineChars = 16384;

    /// <summary>POST register. Answer 201 <see cref="Registered"/>; 401 for a bad registration token.</summary>
    public sealed record RegisterRequest(string? RegistrationToken, string? Name, IReadOnlyList<string>? Labels, int? Capacity, string? Version);
    public sealed record Registered(Guid RunnerId, string Token);

    /// <summary>POST jobs/next. <c>max</c>: jobs wanted now (the runner's free slots); <c>wait_seconds</c>: 0..30.</summary>
    public sealed record NextRequest(int? Max, int? WaitSeconds);
    /// <summary>Answer 200 with one or more jobs, or 204 No Content when none came in time.</summary>
    public sealed record NextResponse(IReadOnlyList<Job> Jobs);

    /// <summary>
    /// A leased build. <c>commit_sha</c> null: build the head of <c>branch</c> and report the commit in
    /// <see cref="Source"/>. <c>env</c>: the stage's variables (set as the project's environment variables for
    /// <c>stage</c>; stage and variables as they were when the build was queued), to be given to every step along with ODOOOPS_BUILD_ID, ODOOOPS_PROJECT, ODOOOPS_BRANCH,
    /// ODOOOPS_STAGE and ODOOOPS_COMMIT. The pipeline comes from the repository (.odooops.yml) or Odoo-aware defaults.
    /// <c>secret_names</c>: which variables of <c>env</c> are secrets, to be masked in the log.
    /// <c>deployed_modules</c> (production builds only): the modules of the branch's last successful build, which the
    /// default pipeline compares with the checkout to update only new or changed modules; null when there is none.
    /// </summary>
    public sealed record Job(Guid BuildId, Guid LeaseId, int LeaseTtlSeconds, int Attempt, Guid ProjectId, string ProjectSlug,
        string OdooVersion, string RepoUrl, string? CommitSha, string Branch, string Stage, string Trigger, long LogSeqStart,
        IReadOnlyDictionary<string, string> Env)
    {
        public IReadOnlyList<DeployedModule>? DeployedModules { get; init; }

        /// <summary>Which of <c>env</c> are secrets: the runner replaces their values with *** in every log line it sends.</summary>
        public IReadOnlyList<string> SecretNames { get; init; } = [];

        /// <summary>
        /// The project's repository credential, for this build's fetch only (never in <c>repo_url</c>, never logged);
        /// null when the repository needs none.
        /// </summary>
        public GitCredential? GitCredential { get; init; }

        /// <summary>
        /// Whether the build's steps may open outbound connections (the project's switch; default true). git's fetch
        /// always may; nothing in a build ever reaches the runner host's loopback.
        /// </summary>
        public bool NetworkAccess { get; init; } = true;

        /// <summary>
        /// Production: the SHA-256 of requirements.txt at the branch's last successful build (null: none, or no file); a
        /// change, like a module's version, makes the runner take a pre-deploy backup first (12.).
        /// </summary>
        public string? DeployedRequirementsSha256 { get; init; }

        /// <summary>
        /// Staging: what the build's database and filestore start from before its update, then neutralised: a production
        /// backup (<c>backup_id</c>) or the production database itself (<c>live_database</c>, on this runner's database
        /// server). Null: start empty (no production yet).
        /// </summary>
        public StagingCopy? StagingSource { get; init; }

        /// <summary>The branch's URL (web.base.url of a neutralised staging database).</summary>
        public string? BaseUrl { get; init; }

        /// <summary>The branch's id: where its instances' data dirs (filestores) live on the runner.</summary>
        public Guid BranchId { get; init; }
    }

    public sealed record StagingCopy(Guid? BackupId, string? LiveDatabase, Guid? LiveInstanceId);

    /// <summary>
    /// A repository credential. <c>kind</c> "token": https basic authentication with <c>username</c> (default
    /// "x-access-token") and the token as password; "ssh_key": an OpenSSH private key (PEM text) for ssh:// and scp-style
    /// URLs. The runner hands it to git for the fetch only (askpass / a 0600 key file inside the build's sandbox).
    /// </summary>
    public sealed record GitCredential(string Kind, string? Username, string Secret)
    {
        public const string Token = "token", SshKey = "ssh_key";
        public override string ToString() => $"GitCredential {{ Kind = {Kind}, Username = {Username}, Secret = *** }}";
    }

    public sealed record DeployedModule(string Name, string? Version);

    /// <summary>POST jobs/{id}/extend. Answer 200 <see cref="Extended"/>; 409 lease lost.</summary>
    public sealed record ExtendRequest(Guid? LeaseId);
    public sealed record Extended(DateTime LeaseUntil, bool CancelRequested);

    /// <summary>POST jobs/{id}/source. Answer 204; 409 lease lost.</summary>
    public sealed record SourceRequest(Guid? LeaseId, string? CommitSha, string? CommitMessage, IReadOnlyList<Module>? Modules)
    {
        /// <summary>SHA-256 (hex) of the checkout's requirements.txt; null without one.</summary>
        public string? RequirementsSha256 { get; init; }
    }
    public sealed record Module(string Name, string Path, string? Title, string? Version, IReadOnlyList<string> Depends, bool Installable);

    /// <summary>
    /// POST jobs/{id}/logs. Streams: stdout, stderr, system. Answer 200 <see cref="LogsAccepted"/>; 409 lease lost.
    /// <c>cut</c> true: the build's log reached the server's cap (lines or bytes) and keeps no more lines, so the
    /// runner stops sending them. Added later: a server without it answers <c>{"stored"}</c> (read as not cut), and a
    /// runner that does not know it keeps sending lines the server drops.
    /// </summary>
    public sealed record LogsRequest(Guid? LeaseId, IReadOnlyList<LogLine>? Lines);
    /// <summary>A NUL in <c>line</c> becomes U+FFFD (<see cref="LogText"/>): every other text field refuses it (400).</summary>
    public sealed record LogLine(long Seq, DateTime? Ts, string? Stream, [property: JsonConverter(typeof(LogText))] string? Line);
    public sealed record LogsAccepted(int Stored, bool Cut = false);

    /// <summary>
    /// POST jobs/{id}/steps/{seq} (seq from 0, in pipeline order). Status running when it starts; success, failed,
    /// skipped, cancelled or timed_out when it ends, with exit code and duration. Answer 204; 409 lease lost.
    /// </summary>
    public sealed record StepRequest(Guid? LeaseId, string? Name, string? Status, int? ExitCode, DateTime? StartedAt, long? DurationMs);
    public static readonly string[] StepStatuses = ["running", "success", "warning", "failed", "skipped", "cancelled", "timed_out"];

    /// <summary>
    /// POST jobs/{id}/done. Result: success, warning, failed, cancelled, timed_out. Answer 204; 409 lease lost.
    /// <c>release</c>: with success or warning, the runner kept the checkout as this build's release and will run it as
    /// an instance on <c>database_name</c> (null: it hosts no instances).
    /// </summary>
    public sealed record DoneRequest(Guid? LeaseId, string? Result, string? Detail)
    {
        public BuildRelease? Release { get; init; }

        /// <summary>A failed production update the runner undid (12., below).</summary>
        public BuildRevert? Reverted { get; init; }
    }

    public sealed record BuildRelease(string? DatabaseName);
    public static readonly IReadOnlyList<string> BuildResults = BuildStatus.Final;

    /// <summary>
    /// POST jobs/{id}/release: a stopping runner hands a build back unfinished (instead of <see cref="Done"/>). It is
    /// queued again at once and the attempt does not count; with a cancel pending it is cancelled. Answer 200
    /// <see cref="Released"/> (status queued or cancelled); 409 lease lost.
    /// </summary>
    public sealed record ReleaseRequest(Guid? LeaseId, string? Reason);
    public sealed record Released(string Status);

    // ---------------------------------------------------------------------------------------------------------------
    // Instances: a successful build's release keeps running as an Odoo server on the runner that built it.
    //
    //  6. <see cref="InstancesSync"/> every <see cref="InstanceSyncSeconds"/> s (and at once after a build's result, a
    //     start and a stop): the runner reports what its instances actually are, the server answers what they should be
    //     (every instance placed on this runner and not yet cleaned up). The runner reconciles: starts what should run
    //     (from releases/&lt;build id&gt;), stops what should not, restarts on a new restart_generation, deletes the
    //     databases of retired instances, then reports them cleaned. Each instance's report carries the env_revision
    //     of the spec its server was started from (the server's count, so no runner clock decides which instances
    //     run with older variables). A runner that restarts gets the whole set in its first answer, so nothing it
    //     hosted is forgotten; one that stops syncing for <see cref="InstanceLeaseSeconds"/> s has its instances shown
    //     as "unknown" until it is back.
    //  7. <see cref="InstanceLogs"/>: the server's Odoo log lines, numbered from the spec's log_seq_next.
    //  8. Metrics go through the public ingest endpoint (/functions/v1/ops-metrics-ingest) with a per-project ingest token the
    //     server hands to the runner in the sync answer (created for this runner; only its hash is kept).
    //  9.–12. Tasks (backups, their verification, restores) and a build's pre-deploy backup: RunnerProtocol.Tasks.cs.
    // ---------------------------------------------------------------------------------------------------------------
    public const string InstancesSync = Base + "/instances/sync";
    public static string InstanceLogs(Guid instanceId) => $"{Base}/instances/{instanceId}/logs";

    /// <summary>How often a runner syncs its instances; a start or stop asked for in the console reaches it within this.</summary>
    public const int InstanceSyncSeconds = 2;

    /// <summary>A runner not heard from for this long has its instances shown as <c>unknown</c>.</summary>
    public const int InstanceLeaseSeconds = 60;

    public static readonly string[] InstanceStates = ["starting", "running", "unhealthy", "stopping", "stopped", "failed"];

    /// <summary>
    /// POST instances/sync. <c>address</c>: the host the server reaches this runner's instance ports at (null: loopback,
    /// the embedded runner). <c>ingest_tokens_held</c>: projects whose ingest token the runner still has.
    /// Answer 200 <see cref="SyncResponse"/>.
    /// </summary>
    public sealed record SyncRequest(string? Address, IReadOnlyList<InstanceReport>? Instances, IReadOnlyList<Guid>? IngestTokensHeld);

    /// <summary>
    /// What an instance is on the runner. <c>state</c>: one of <see cref="InstanceStates"/>; <c>reason</c>: why (a crash,
    /// a failed health check, a stop); <c>cleaned</c>: a retired instance whose processes, and database when asked, are
    /// gone. <c>restart_generation</c>: the generation the running process was started for.
    /// </summary>
    public sealed record InstanceReport(Guid InstanceId, string State, string? Reason, int? HttpPort, int? GeventPort, int? Pid,
        int Restarts, int RestartGeneration, DateTime? StartedAt, DateTime? ReadyAt, DateTime? StoppedAt, bool Cleaned = false)
    {
        /// <summary>
        /// The <see cref="InstanceSpec.EnvRevision"/> of the spec whose variables the process was started with (kept
        /// across its crash restarts, which reuse them), 0 or more. The server compares it with the stage's revision to
        /// say whether a restart is needed. Added later: a runner that leaves it out (null) is judged by
        /// <c>started_at</c>, its own clock, as before.
        /// </summary>
        public long? EnvRevision { get; init; }
    }

    public sealed record SyncResponse(IReadOnlyList<InstanceSpec> Instances, IReadOnlyDictionary<Guid, string> IngestTokens,
        IReadOnlyList<Guid> KeepReleases)
    {
        /// <summary>Tasks leased to this runner with this answer (9., below); a server without tasks sends none.</summary>
        public IReadOnlyList<RunnerTask> Tasks { get; init; } = [];
    }

    /// <summary>
    /// An instance as it should be. <c>desired</c>: running or stopped; <c>retired</c>: stopped for good (clean up, and
    /// drop <c>database_name</c> when <c>drop_database</c>). <c>env</c>/<c>secret_names</c>: the stage's variables now
    /// (secrets masked in the log); workers, cron threads, memory and CPUs: the branch's settings.
    /// <c>keep_releases</c> (in the answer): the builds whose release folders this runner keeps; others may go.
    /// </summary>
    public sealed record InstanceSpec(Guid InstanceId, Guid ProjectId, string ProjectSlug, Guid BranchId, string Branch, string Stage,
        Guid BuildId, string OdooVersion, string Desired, int RestartGeneration, bool Retired, string DatabaseName, bool DropDatabase,
        int Workers, int CronThreads, int MemoryMb, decimal Cpus, IReadOnlyDictionary<string, string> Env, IReadOnlyList<string> SecretNames,
        long LogSeqNext, string? BaseUrl)
    {
        /// <summary>
        /// The revision of exactly these <c>env</c> variables (the stage's change count, read with them; 0: never
        /// changed). A runner reports it back with the process it starts from this spec. Null from a server without it.
        /// </summary>
        public long? EnvRevision { get; init; }
    }

    /// <summary>POST instances/{id}/logs. Answer 200 <see cref="LogsAccepted"/>; 404 for an instance not on this runner.</summary>
    public sealed record InstanceLogsRequest(IReadOnlyList<InstanceLogLine>? Lines);
    /// <summary>One Odoo log line; <c>level</c> DEBUG, INFO, WARNING, ERROR or CRITICAL (a line Odoo did not format: INFO).</summary>
    public sealed record InstanceLogLine(long Seq, DateTime? Ts, string? Level, [property: JsonConverter(typeof(LogText))] string? Line);

    /// <summary>
    /// Log text is other programs' output, relayed: a NUL in it (which PostgreSQL text cannot hold) becomes U+FFFD, as
    /// the reference runner does with step output, instead of costing the batch with its other lines.
    /// </summary>
    internal sealed class LogText : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetString()?.Replace('\0', '\uFFFD');

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
