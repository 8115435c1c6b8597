namespace OdooOps.Builds;

/// <summary>
/// The statuses of a build, as the API, the database and the runner protocol write them. A build is queued, then
/// running, then ends in one of the final statuses; nothing changes a final status. The database's CHECK on
/// ops.builds.status lists the same (RoleTests compares them).
/// </summary>
internal static class BuildStatus
{
    public const string Queued = "queued", Running = "running";
    public const string Success = "success", Warning = "warning", Failed = "failed", Cancelled = "cancelled", TimedOut = "timed_out";

    public static readonly IReadOnlyList<string> All = [Queued, Running, Success, Warning, Failed, Cancelled, TimedOut];

    /// <summary>The statuses a build ends in (a runner's result is one of them).</summary>
    public static readonly IReadOnlyList<string> Final = [Success, Warning, Failed, Cancelled, TimedOut];

    public static bool IsFinal(string status) => Final.Contains(status);
}
