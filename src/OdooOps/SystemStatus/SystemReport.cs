using OdooOps.Scheduler;

namespace OdooOps.SystemStatus;

/// <summary>
/// The server's own state, for system administrators: the specification's monitoring list on one page (the System
/// page, <c>GET /api/ops/system</c>, `odooops system status`). Scheduled jobs with their recent runs, the build queue
/// and its oldest build, runners online, the database's size, its connections and this process's pools, and the
/// specification's alerts as checks with their thresholds.
/// </summary>
internal sealed record SystemReport(
    DateTime At,
    string Node,
    DateTime StartedAt,
    IReadOnlyList<SystemReport.Job> Jobs,
    SystemReport.Queue BuildQueue,
    SystemReport.RunnerCounts Runners,
    SystemReport.DatabaseState Database,
    IReadOnlyList<SystemReport.Check> Checks)
{
    /// <param name="FailedLastDay">Failed runs in the last 24 hours.</param>
    public sealed record Job(string Name, string Cron, DateTime? NextRunAt, IReadOnlyList<JobRunStore.JobRun> RecentRuns, int FailedLastDay);

    /// <param name="StuckProjects">Projects with an open build_queue_stuck advisory (the scan's rule for a queue that does not move).</param>
    public sealed record Queue(int Queued, int Leased, Guid? OldestBuildId, DateTime? OldestQueuedAt, string? OldestProject, int StuckProjects);

    /// <param name="Capacity">Builds the online runners take at once.</param>
    public sealed record RunnerCounts(int Total, int Online, int Disabled, int Capacity);

    /// <param name="Connections">This database's connections by application, every replica's (pg_stat_activity).</param>
    /// <param name="Pools">This process's request pools (Npgsql): connections in use, idle, and the most it may open.</param>
    public sealed record DatabaseState(long SizeBytes, int MaxConnections, IReadOnlyList<ConnectionCount> Connections, IReadOnlyList<Pool> Pools);

    /// <param name="Active">Running a statement now; null when the database does not let the owner see it.</param>
    public sealed record ConnectionCount(string Application, int Connections, int? Active);

    public sealed record Pool(string Name, long Used, long Idle, long Max);

    /// <summary>One alert of the specification's list: ok, warning, or unknown (nothing measured yet), the value and the threshold.</summary>
    public sealed record Check(string Name, string Status, string Value, string Threshold, string Detail);

    public const string Ok = "ok", Warning = "warning", Unknown = "unknown";
}
