namespace OdooOps.Runners.Protocol;

/// <summary>The runner ↔ server contract, continued: tasks and backups (the story starts in RunnerProtocol.cs).</summary>
public static partial class RunnerProtocol
{
    // ---------------------------------------------------------------------------------------------------------------
    // Tasks: work on a branch's host that is not a build: take a backup, verify one, restore one into a branch.
    //
    //  9. Tasks arrive in the <see cref="InstancesSync"/> answer (<see cref="SyncResponse.Tasks"/>), leased to this runner
    //     as they are sent: only a runner that hosts instances syncs, and only the branch's host has its database and
    //     filestore. A task waits while the task named in its <c>after</c> runs (a restore after its pre-restore backup).
    // 10. <see cref="TaskExtend"/> every <see cref="HeartbeatSeconds"/> s renews the lease and answers cancel_requested;
    //     <see cref="TaskLogs"/> sends numbered lines from <see cref="RunnerTask.LogSeqStart"/>; <see cref="TaskDone"/>
    //     ends it. A lease that runs out queues the task again (up to its attempts), as the rescuer does for builds.
    // 11. A backup's zip goes to the server as the body of PUT <see cref="BackupArtifact"/>?lease_id=… (application/zip,
    //     streamed); the server stores it (a folder or a bucket) and answers <see cref="ArtifactStored"/>. GET on the same
    //     path streams a stored backup back (verify, restore, a staging copy). <see cref="BackupDone"/> records what the
    //     backup holds. The lease named is a task's whose backup it is, or a build's that made it (<see cref="JobBackups"/>).
    // 12. Builds make backups too: a production build whose update changes modules or requirements.txt first asks
    //     <see cref="JobBackups"/> for a pre-deploy backup, uploads and records it as above, and if the update fails
    //     restores it and reports <see cref="DoneRequest.Reverted"/>.
    // ---------------------------------------------------------------------------------------------------------------
    public static string TaskExtend(Guid taskId) => $"{Base}/tasks/{taskId}/extend";
    public static string TaskLogs(Guid taskId) => $"{Base}/tasks/{taskId}/logs";
    public static string TaskDone(Guid taskId) => $"{Base}/tasks/{taskId}/done";
    public static string JobBackups(Guid buildId) => $"{Base}/jobs/{buildId}/backups";
    public static string BackupArtifact(Guid backupId) => $"{Base}/backups/{backupId}/artifact";
    public static string BackupDone(Guid backupId) => $"{Base}/backups/{backupId}/done";

    public static readonly string[] TaskKinds = ["backup", "verify", "restore"];

    /// <summary>
    /// A leased task. <c>backup_id</c>: the backup it takes (backup), checks (verify) or restores (restore).
    /// <c>database_name</c>/<c>instance_id</c>: the branch's current instance on this runner and its database (what a
    /// backup reads and a restore replaces); null when the branch has none here. <c>neutralize</c>: a restore into a
    /// staging or development branch, which is neutralised (<c>base_url</c>: the branch's URL, for web.base.url).
    /// </summary>
    public sealed record RunnerTask(Guid TaskId, Guid LeaseId, int LeaseTtlSeconds, int Attempt, string Kind, Guid ProjectId,
        string ProjectSlug, Guid BranchId, string Branch, string Stage, string OdooVersion, Guid BackupId, Guid? InstanceId,
        string? DatabaseName, long LogSeqStart, bool Neutralize, string? BaseUrl)
    {
        /// <summary>The backup file's SHA-256 when it was taken (verify, restore): a file altered since fails at once.</summary>
        public string? BackupSha256 { get; init; }
    }

    /// <summary>POST tasks/{id}/extend. Answer 200 <see cref="Extended"/>; 409 lease lost.</summary>
    public sealed record TaskExtendRequest(Guid? LeaseId);

    /// <summary>POST tasks/{id}/logs. Answer 200 <see cref="LogsAccepted"/>; 409 lease lost.</summary>
    public sealed record TaskLogsRequest(Guid? LeaseId, IReadOnlyList<LogLine>? Lines);

    /// <summary>
    /// POST tasks/{id}/done. <c>result</c>: succeeded or failed (with <c>detail</c>, the reason). A verify task reports
    /// its <see cref="Verification"/> (passed or not, each check). Answer 204; 409 lease lost.
    /// </summary>
    public sealed record TaskDoneRequest(Guid? LeaseId, string? Result, string? Detail)
    {
        public Verification? Verification { get; init; }
    }

    public sealed record Verification(bool Passed, string? Reason, IReadOnlyList<VerificationCheck> Checks);
    public sealed record VerificationCheck(string Name, bool Passed, string Detail);

    /// <summary>
    /// POST jobs/{id}/backups: a production build's pre-deploy backup. Answer 201 <see cref="JobBackupCreated"/> (the same
    /// backup again while it is unfinished); 400 for a build that is not production's; 409 lease lost.
    /// </summary>
    public sealed record JobBackupRequest(Guid? LeaseId, string? Kind);
    public sealed record JobBackupCreated(Guid BackupId);

    /// <summary>PUT backups/{id}/artifact?lease_id=…: answer 200 with what the server stored (its own count and SHA-256).</summary>
    public sealed record ArtifactStored(long SizeBytes, string Sha256);

    /// <summary>
    /// POST backups/{id}/done. <c>result</c> succeeded (with <c>facts</c>, which must match the stored artifact's size
    /// and SHA-256) or failed (with <c>detail</c>). A succeeded backup is verified next. Answer 204; 422 when the facts do
    /// not match the stored artifact (the backup is failed then: do not count on it); 409 lease lost.
    /// </summary>
    public sealed record BackupDoneRequest(Guid? LeaseId, string? Result, string? Detail)
    {
        public BackupFacts? Facts { get; init; }
    }

    /// <summary>What a backup holds: the zip's size and SHA-256, and the database and filestore at that time.</summary>
    public sealed record BackupFacts(long SizeBytes, string Sha256, long DurationMs, string OdooVersion,
        IReadOnlyList<BackupModule> Modules, int TableCount, int FilestoreFiles, long FilestoreBytes, string FilestoreSha256);

    /// <summary>A module of ir_module_module: its state (installed, uninstalled, to upgrade, …) and installed version.</summary>
    public sealed record BackupModule(string Name, string State, string? Version);

    /// <summary>With a failed production build: the runner put the database back from <c>backup_id</c> and started <c>to_build_id</c>'s release again.</summary>
    public sealed record BuildRevert(Guid? ToBuildId, Guid? BackupId);
}
