using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Runners.Dispatch;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Backups.Tasks;

/// <summary>The runner protocol's task and backup calls (Backups/Tasks/Sql), run as ops_service.</summary>
internal static class RunnerTaskStore
{
    /// <summary>
    /// Tasks one runner runs at once. Two lets a verification run beside the next backup; more would compete with the
    /// instances the host serves (pg_dump, pg_restore and zipping a filestore each take a core and the disk), and the
    /// daily backups of many branches due at the same minute wait their turn instead of all starting together.
    /// </summary>
    public const int MaxRunningPerRunner = 2;

    sealed record TaskRow(Guid task_id, Guid lease_id, int attempt, string kind, Guid project_id, string project_slug, Guid branch_id,
        string branch, string stage, string odoo_version, Guid backup_id, Guid? instance_id, string? database_name, long log_seq_start,
        bool neutralize, string? branch_label, string? project_label, string? backup_sha256);

    /// <summary>Leases the runner its tasks in the sync's transaction (ops.claim_runner_tasks).</summary>
    public static async Task<List<RunnerTask>> ClaimAsync(NpgsqlConnection c, NpgsqlTransaction tx, Guid runnerId, int leaseSeconds,
        Func<string?, string?, string?> baseUrl)
    {
        var rows = await c.QueryAsync<TaskRow>("select * from ops.claim_runner_tasks(@runnerId, @leaseSeconds, @max)",
            new { runnerId, leaseSeconds, max = MaxRunningPerRunner }, tx);
        return [.. rows.Select(r => new RunnerTask(r.task_id, r.lease_id, leaseSeconds, r.attempt, r.kind, r.project_id, r.project_slug,
            r.branch_id, r.branch, r.stage, r.odoo_version, r.backup_id, r.instance_id, r.database_name, r.log_seq_start, r.neutralize,
            baseUrl(r.branch_label, r.project_label)) { BackupSha256 = r.backup_sha256 })];
    }

    public static Task<Extended> ExtendAsync(NpgsqlConnection c, Guid runnerId, Guid taskId, Guid leaseId, int leaseSeconds) =>
        c.QuerySingleAsync<Extended>("select lease_until as leaseuntil, cancel_requested as cancelrequested from ops.extend_task_lease(@runnerId, @taskId, @leaseId, @leaseSeconds)",
            new { runnerId, taskId, leaseId, leaseSeconds });

    public static Task<LogsAccepted> AppendLogsAsync(NpgsqlConnection c, Guid runnerId, Guid taskId, Guid leaseId, IReadOnlyList<LogLine> lines,
        long maxLines, long maxBytes) => DispatchStore.AppendLogsAsync(c, "ops.append_task_logs", runnerId, taskId, leaseId, lines, maxLines, maxBytes);

    public static Task FinishAsync(NpgsqlConnection c, Guid runnerId, Guid taskId, TaskDoneRequest r) =>
        c.ExecuteAsync("select ops.finish_runner_task(@runnerId, @taskId, @LeaseId, @Result, @Detail, @verification::jsonb)",
            new { runnerId, taskId, r.LeaseId, r.Result, r.Detail, verification = r.Verification is null ? null : JsonSerializer.Serialize(r.Verification, Json) });

    /// <summary>Records a backup's result; the reason it failed when the facts do not match the stored file (else null).</summary>
    public static Task<string?> FinishBackupAsync(NpgsqlConnection c, Guid runnerId, Guid backupId, BackupDoneRequest r) =>
        c.ExecuteScalarAsync<string?>("select ops.finish_backup(@runnerId, @backupId, @LeaseId, @Result, @Detail, @facts::jsonb)",
            new { runnerId, backupId, r.LeaseId, r.Result, r.Detail, facts = r.Facts is null ? null : JsonSerializer.Serialize(r.Facts, Json) });

    public static Task<Guid> CreateBuildBackupAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, Guid leaseId, string? kind) =>
        c.ExecuteScalarAsync<Guid>("select ops.create_build_backup(@runnerId, @buildId, @leaseId, @kind)", new { runnerId, buildId, leaseId, kind });
}
