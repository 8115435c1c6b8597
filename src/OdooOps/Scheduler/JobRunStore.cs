using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using OdooOps.Configuration;

namespace OdooOps.Scheduler;

/// <summary>
/// ops.job_runs: claiming a tick and recording its outcome (as ops_service, through the SECURITY DEFINER functions
/// in Scheduler/Sql), and reading runs back (as a system admin through RLS, or as the owner for doctor).
/// </summary>
internal static class JobRunStore
{
    public sealed record JobRun(long Id, string Job, string? Node, DateTime? ScheduledFor, DateTime StartedAt, DateTime? FinishedAt, string Outcome, string? Detail);

    /// <summary>
    /// A tick this process won: the ops_service session that holds the tick's advisory lock, and the 'running' row.
    /// Disposing releases the lock and returns the connection to the pool.
    /// </summary>
    public sealed class TickClaim : IAsyncDisposable
    {
        readonly NpgsqlConnection _conn;
        readonly long _lockKey;

        internal TickClaim(NpgsqlConnection conn, long lockKey, long runId) => (_conn, _lockKey, RunId) = (conn, lockKey, runId);

        public long RunId { get; }

        /// <summary>Not cancellable: a run cut short by shutdown must still end up recorded as failed.</summary>
        public Task<bool> FinishAsync(string outcome, string detail) =>
            _conn.ExecuteScalarAsync<bool>("select ops.finish_job_run(@RunId, @outcome, @detail)", new { RunId, outcome, detail });

        public async ValueTask DisposeAsync()
        {
            try { await _conn.ExecuteAsync("select pg_advisory_unlock(@_lockKey)", new { _lockKey }); }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { } // a lost session has released its locks already
            await _conn.DisposeAsync();
        }
    }

    /// <summary>
    /// Claims (job, tick) for this node, or returns null when another replica has it. The advisory lock keeps
    /// replicas that reach the tick together out while it runs; the run row (unique per job and tick) keeps out one
    /// that reaches it after the winner has finished and unlocked, so each tick runs once however late a replica is.
    /// </summary>
    public static async Task<TickClaim?> TryClaimAsync(NpgsqlDataSource service, string job, string node, DateTimeOffset tick, CancellationToken ct)
    {
        var conn = await service.OpenConnectionAsync(ct);
        try
        {
            var lockKey = LockKey(job, tick);
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select pg_try_advisory_lock(@lockKey)", new { lockKey }, cancellationToken: ct)))
            {
                await conn.DisposeAsync();
                return null;
            }
            var runId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
                "select ops.start_job_run(@job, @node, @tick)", new { job, node, tick = tick.ToUniversalTime() }, cancellationToken: ct));
            if (runId is { } id) return new TickClaim(conn, lockKey, id);
            await new TickClaim(conn, lockKey, 0).DisposeAsync();
            return null;
        }
        catch
        {
            // A pooled session keeps its advisory locks until reused: let go of the tick's lock before returning it.
            try { await conn.ExecuteAsync("select pg_advisory_unlock_all()"); }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { }
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Closes as failed the 'running' runs (started before <paramref name="startedBefore"/>) whose node died: the node
    /// running a tick holds its advisory lock until the outcome is recorded, so a lock this session can take is a lock
    /// nobody holds. Returns the runs closed.
    /// </summary>
    public static async Task<int> CloseAbandonedRunsAsync(NpgsqlDataSource service, DateTimeOffset startedBefore, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        var closed = 0;
        var running = await conn.QueryAsync<(long Id, string Job, DateTime ScheduledFor)>(new CommandDefinition(
            "select id, job, scheduled_for from ops.running_job_runs(@startedBefore)", new { startedBefore }, cancellationToken: ct));
        foreach (var run in running)
        {
            var lockKey = LockKey(run.Job, new DateTimeOffset(run.ScheduledFor, TimeSpan.Zero));
            if (!await conn.ExecuteScalarAsync<bool>("select pg_try_advisory_lock(@lockKey)", new { lockKey })) continue; // alive
            try
            {
                if (await conn.ExecuteScalarAsync<bool>("select ops.finish_job_run(@Id, 'failed', 'abandoned: the node running it stopped before it finished')",
                        new { run.Id }))
                    closed++;
            }
            finally
            {
                await conn.ExecuteAsync("select pg_advisory_unlock(@lockKey)", new { lockKey });
            }
        }
        return closed;
    }

    /// <summary>Days of ops.job_runs history kept (default 30): the retention job deletes older finished runs.</summary>
    public const string RetentionKey = "OPS_JOB_RUN_RETENTION_DAYS";

    /// <summary>OPS_JOB_RUN_RETENTION_DAYS, checked (a bad value stops `serve` with one line naming the key).</summary>
    public static int RetentionDays(IConfiguration config) => OpsConfiguration.Days(config, RetentionKey, 30);

    /// <summary>Finished runs older than <paramref name="before"/> (by tick, else start), deleted; how many.</summary>
    public static async Task<int> DeleteBeforeAsync(NpgsqlDataSource service, DateTimeOffset before, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.delete_job_runs_before(@before)", new { before }, cancellationToken: ct));
    }

    /// <summary>One 64-bit key per (job, tick); hashed so it cannot collide with the small fixed keys of migrations and login roles in practice.</summary>
    public static long LockKey(string job, DateTimeOffset tick) =>
        BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"odooops.job|{job}|{tick.UtcTicks}")));

    const string Columns = "id, job, node, scheduled_for, started_at, finished_at, outcome, detail";

    /// <summary>Each job's most recent run (by start), keyed by job name.</summary>
    public static async Task<Dictionary<string, JobRun>> LastRunsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx = null) =>
        (await conn.QueryAsync<JobRun>($"select distinct on (job) {Columns} from ops.job_runs order by job, started_at desc, id desc", transaction: tx))
        .ToDictionary(r => r.Job);

    /// <summary>Runs newest first, of one job or of all.</summary>
    public static async Task<List<JobRun>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string? job, int limit) =>
        (await conn.QueryAsync<JobRun>(
            $"select {Columns} from ops.job_runs where (@job::text is null or job = @job) order by started_at desc, id desc limit @limit",
            new { job, limit }, tx)).ToList();

    /// <summary>The newest <paramref name="perJob"/> runs of each named job (one index probe per job), newest first.</summary>
    public static async Task<List<JobRun>> RecentAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<string> jobs, int perJob) =>
        (await conn.QueryAsync<JobRun>($"""
            select r.* from unnest(@jobs::text[]) j(name)
            cross join lateral (select {Columns} from ops.job_runs r where r.job = j.name order by r.started_at desc, r.id desc limit @perJob) r
             order by r.job, r.started_at desc, r.id desc
            """, new { jobs = jobs.ToArray(), perJob }, tx)).ToList();

    /// <summary>Failed runs of each named job since <paramref name="since"/> (through the (job, started_at) index).</summary>
    public static async Task<Dictionary<string, int>> FailuresSinceAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<string> jobs,
        DateTime since) =>
        (await conn.QueryAsync<(string Job, int Failed)>("""
            select j.name, (select count(*)::int from ops.job_runs r where r.job = j.name and r.started_at >= @since and r.outcome = 'failed')
              from unnest(@jobs::text[]) j(name)
            """, new { jobs = jobs.ToArray(), since }, tx))
        .ToDictionary(r => r.Job, r => r.Failed);
}
