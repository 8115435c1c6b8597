using System.Diagnostics;
using Dapper;
using OdooOps.Database;
using OdooOps.Observability;
using OdooOps.Scheduler;

namespace OdooOps.SystemStatus;

/// <summary>
/// Reads <see cref="SystemReport"/> for the API, the System page and (through the API) the CLI: the database's part as
/// the user (ops.system_status and ops.system_connections let system administrators only through; job runs through
/// their RLS), this process's part from its own meters. Null when the user is not a system administrator.
/// </summary>
internal sealed class SystemStatusReader(OpsDatabase db, JobSchedule schedule, HttpMetrics http, DbPoolMetrics pools, TimeProvider clock)
{
    public const int RunsPerJob = 10;

    static readonly DateTime ProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    sealed record Row(int QueuedBuilds, int LeasedBuilds, Guid? OldestQueuedBuildId, DateTime? OldestQueuedAt, string? OldestQueuedProject,
        int RunnersTotal, int RunnersOnline, int RunnersDisabled, int RunnerCapacity, long DatabaseSizeBytes, int MaxConnections,
        int StuckQueueAdvisories);

    public async Task<SystemReport?> ReadAsync(Guid userId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var names = schedule.Entries.Select(e => e.Job.Name).ToList();
        var read = await db.AsUserAsync(userId, async (c, t) =>
        {
            if (!await c.ExecuteScalarAsync<bool>("select ops.is_system_admin()", transaction: t)) return null;
            var row = await c.QuerySingleAsync<Row>("select * from ops.system_status()", transaction: t);
            var connections = (await c.QueryAsync<SystemReport.ConnectionCount>(
                "select application, connections, active from ops.system_connections()", transaction: t)).ToList();
            var runs = await JobRunStore.RecentAsync(c, t, names, RunsPerJob);
            var failures = await JobRunStore.FailuresSinceAsync(c, t, names, now.UtcDateTime.AddDays(-1));
            return new { row, connections, runs, failures };
        }, ct);
        if (read is null) return null;

        var jobs = schedule.Entries.Select(e => new SystemReport.Job(e.Job.Name, e.Cron, e.NextAfter(now)?.UtcDateTime,
            [.. read.runs.Where(r => r.Job == e.Job.Name)], read.failures.GetValueOrDefault(e.Job.Name))).ToList();
        var r = read.row;
        var queue = new SystemReport.Queue(r.QueuedBuilds, r.LeasedBuilds, r.OldestQueuedBuildId, r.OldestQueuedAt, r.OldestQueuedProject, r.StuckQueueAdvisories);
        var runners = new SystemReport.RunnerCounts(r.RunnersTotal, r.RunnersOnline, r.RunnersDisabled, r.RunnerCapacity);
        var database = new SystemReport.DatabaseState(r.DatabaseSizeBytes, r.MaxConnections, read.connections, Pools());
        return new SystemReport(now.UtcDateTime, Environment.MachineName, ProcessStarted, jobs, queue, runners, database,
            SystemChecks.Evaluate(http.Collect(), database, queue, runners, jobs));
    }

    /// <summary>This process's request pools: connections in use and idle, and the most each may open.</summary>
    IReadOnlyList<SystemReport.Pool> Pools()
    {
        var (connections, max) = pools.Collect();
        return [.. max.Select(m => new SystemReport.Pool(m.Pool,
            connections.Where(c => c.Pool == m.Pool && c.State == "used").Sum(c => c.Value),
            connections.Where(c => c.Pool == m.Pool && c.State == "idle").Sum(c => c.Value), m.Value))];
    }
}
