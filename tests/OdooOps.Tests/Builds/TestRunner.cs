using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Builds;

/// <summary>
/// Plays a runner's part through the runner's own database functions (ops.append_build_logs, report_build_step,
/// record_build_source, finish_build_job), which notify ops_build_logs as a real runner's calls do. The lease is
/// set up directly as the owner instead of through ops.claim_build_jobs, so that a test leases exactly its own
/// build and not another queued build of the same database.
/// </summary>
public sealed class TestRunner(NpgsqlConnectionStringBuilder owner, Guid runnerId)
{
    readonly Dictionary<Guid, (Guid Lease, long NextSeq)> _leases = [];

    public Guid Id => runnerId;

    /// <summary>A runner of <paramref name="orgId"/> (null: a shared runner).</summary>
    public static async Task<TestRunner> RegisterAsync(NpgsqlConnectionStringBuilder owner, Guid? orgId, string name = "test-runner")
    {
        await using var conn = await Accounts.OpenAsync(owner);
        var id = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.runners (org_id, name, labels, capacity, token_hash)
            values (@orgId, @name, '{linux}', 64, uuid_send(gen_random_uuid())) returning id
            """, new { orgId, name });
        return new TestRunner(owner, id);
    }

    /// <summary>A queued build of a project's branch, inserted as the owner (its queue row comes from the trigger).</summary>
    public static async Task<Guid> QueueAsync(NpgsqlConnectionStringBuilder owner, Guid projectId, string branch, string? commitSha = null, string status = "queued")
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, commit_message, finished_at)
            select project_id, id, @status, 'push', @commitSha, 'Fix the invoice report' || chr(10) || chr(10) || 'Long body',
                   case when @status in ('queued', 'running') then null else now() end
              from ops.branches where project_id = @projectId and name = @branch
            returning id
            """, new { projectId, branch, commitSha, status });
    }

    /// <summary>Leases the build to this runner and marks it running, as a claim would.</summary>
    public async Task StartAsync(Guid buildId)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        var lease = await conn.ExecuteScalarAsync<Guid>("""
            update ops.run_queue set state = 'leased', lease_id = gen_random_uuid(), lease_owner = @runnerId,
                   lease_until = now() + interval '10 minutes', attempts = attempts + 1
             where build_id = @buildId and state = 'queued'
            returning lease_id
            """, new { buildId, runnerId });
        await conn.ExecuteAsync("""
            update ops.builds set status = 'running', started_at = now(), runner_id = @runnerId,
                   attempt = (select attempts from ops.run_queue where build_id = @buildId)
             where id = @buildId
            """, new { buildId, runnerId });
        var next = await conn.ExecuteScalarAsync<long>("select coalesce(max(seq) + 1, 0) from ops.build_logs where build_id = @buildId", new { buildId });
        _leases[buildId] = (lease, next);
    }

    /// <summary>Appends lines (stream, text) with the next sequence numbers; returns the seq of the last.</summary>
    public async Task<long> AppendAsync(Guid buildId, params (string Stream, string Line)[] lines)
    {
        var (lease, next) = _leases[buildId];
        var seqs = Enumerable.Range(0, lines.Length).Select(i => next + i).ToArray();
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("""
            select ops.append_build_logs(@runnerId, @buildId, @lease, @seqs, @ts, @streams, @texts, 100000, 67108864)
            """, new
        {
            runnerId, buildId, lease, seqs,
            ts = lines.Select(_ => DateTime.UtcNow).ToArray(),
            streams = lines.Select(l => l.Stream).ToArray(),
            texts = lines.Select(l => l.Line).ToArray(),
        });
        _leases[buildId] = (lease, next + lines.Length);
        return next + lines.Length - 1;
    }

    public Task<long> AppendAsync(Guid buildId, params string[] stdout) => AppendAsync(buildId, [.. stdout.Select(l => ("stdout", l))]);

    public async Task StepAsync(Guid buildId, int seq, string name, string status, int? exitCode = null, long? durationMs = null)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("select ops.report_build_step(@runnerId, @buildId, @lease, @seq, @name, @status, @exitCode, now(), @durationMs)",
            new { runnerId, buildId, lease = _leases[buildId].Lease, seq, name, status, exitCode, durationMs });
    }

    public async Task RecordSourceAsync(Guid buildId, string commitSha, string message, string modulesJson)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("select ops.record_build_source(@runnerId, @buildId, @lease, @commitSha, @message, @modulesJson::jsonb)",
            new { runnerId, buildId, lease = _leases[buildId].Lease, commitSha, message, modulesJson });
    }

    public async Task FinishAsync(Guid buildId, string result, string? detail = null)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("select ops.finish_build_job(@runnerId, @buildId, @lease, @result, @detail)",
            new { runnerId, buildId, lease = _leases[buildId].Lease, result, detail });
        // As the runner API's done does after the finish commits (ops.finish_build_job itself does not notify).
        await conn.ExecuteAsync("select pg_notify('ops_build_logs', @id)", new { id = buildId.ToString() });
    }

    /// <summary>
    /// What the runner's heartbeat learns (ops.extend_build_lease answers cancel_requested_at is not null), read from
    /// the row so that asking does not renew the lease.
    /// </summary>
    public async Task<bool> CancelRequestedAsync(Guid buildId)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return await conn.ExecuteScalarAsync<bool>("select cancel_requested_at is not null from ops.builds where id = @buildId", new { buildId });
    }
}
