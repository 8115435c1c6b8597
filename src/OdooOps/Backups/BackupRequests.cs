using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Branches;
using OdooOps.Database;

namespace OdooOps.Backups;

/// <summary>
/// A person's backup, restore, verification, and cancel of a backup's task, for the API, the console and (through the
/// API) the CLI. The rules — who may (ops.backup_role: admin on production, tester on staging and development), the
/// 5-a-day quota, the production confirmation, what can be restored and where, what can be cancelled — are the
/// database's (ops.request_backup, ops.request_restore, ops.request_verify, ops.cancel_runner_task); this runs them as
/// the actor and writes the audit row (<c>backup.create</c>, <c>backup.restore</c>, <c>backup.verify</c>; the cancel's
/// <c>runner_task.cancel</c> is its function's) in the same transaction.
/// </summary>
internal static class BackupRequests
{
    /// <summary>A manual backup of a branch of the project.</summary>
    public static Task<BackupOutcome> BackupAsync(OpsDatabase db, Actor actor, Guid projectId, Guid branchId, CancellationToken ct) =>
        BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
        {
            if (await BranchStore.GetAsync(c, t, projectId, branchId) is null) return new BackupOutcome.NotFound();
            var id = await c.ExecuteScalarAsync<Guid>("select ops.request_backup(@branchId)", new { branchId }, t);
            var backup = (await BackupStore.GetAsync(c, t, id))!;
            await AuditAsync(c, t, actor, backup, "backup.create", new { backup.Branch, backup.Stage, backup.Kind, backup.Status });
            return new BackupOutcome.Queued(backup);
        }, ct);

    /// <summary>Restores a backup into a branch of its project; production needs <paramref name="confirm"/> = the branch's name.</summary>
    public static Task<BackupOutcome> RestoreAsync(OpsDatabase db, Actor actor, Guid backupId, Guid branchId, string? confirm, CancellationToken ct) =>
        BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
        {
            var taskId = await c.ExecuteScalarAsync<Guid>("select ops.request_restore(@backupId, @branchId, @confirm)",
                new { backupId, branchId, confirm }, t);
            var backup = (await BackupStore.GetAsync(c, t, backupId))!;
            var task = (await BackupStore.TaskAsync(c, t, backupId, taskId))!;
            var preRestore = task.After is { } after
                ? await BackupStore.GetAsync(c, t, await c.ExecuteScalarAsync<Guid>("select backup_id from ops.runner_tasks where id = @after", new { after }, t))
                : null;
            await AuditAsync(c, t, actor, backup, "backup.restore", new
            {
                Into = task.Branch, IntoBranchId = task.BranchId, TaskId = task.Id, PreRestoreBackupId = preRestore?.Id, task.Neutralize,
            });
            return new BackupOutcome.TaskQueued(backup, task, preRestore);
        }, ct);

    /// <summary>Verifies a backup again: restored into a scratch database on a runner, checked, dropped.</summary>
    public static Task<BackupOutcome> VerifyAsync(OpsDatabase db, Actor actor, Guid backupId, CancellationToken ct) =>
        BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
        {
            var taskId = await c.ExecuteScalarAsync<Guid>("select ops.request_verify(@backupId)", new { backupId }, t);
            var backup = (await BackupStore.GetAsync(c, t, backupId))!;
            var task = (await BackupStore.TaskAsync(c, t, backupId, taskId))!;
            await AuditAsync(c, t, actor, backup, "backup.verify", new { TaskId = task.Id, Before = backup.Verification });
            return new BackupOutcome.TaskQueued(backup, task, null);
        }, ct);

    /// <summary>
    /// Cancels a backup's task: a queued one at once, a running one by asking its runner to stop (it hears it at its next
    /// heartbeat). ops.cancel_runner_task holds the rules — whoever may ask for that task may cancel it, an ended one is
    /// 409 — and writes the <c>runner_task.cancel</c> audit row with the change.
    /// </summary>
    public static Task<BackupOutcome> CancelTaskAsync(OpsDatabase db, Actor actor, Guid taskId, CancellationToken ct) =>
        BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
        {
            var backupId = await c.QuerySingleAsync<Guid>("select backup_id from ops.cancel_runner_task(@taskId, @ip::inet)",
                new { taskId, ip = actor.Ip?.ToString() }, t);
            var backup = (await BackupStore.GetAsync(c, t, backupId))!;
            return new BackupOutcome.TaskCancelled(backup, (await BackupStore.TaskAsync(c, t, backupId, taskId))!);
        }, ct);

    /// <summary>The one audit row of a backup use case, on the backup.</summary>
    public static async Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Backup backup, string action, object after) =>
        await AuditLog.WriteAsync(c, t, actor, new(await BackupStore.OrgOfAsync(c, t, backup.ProjectId), backup.ProjectId, action, "backup",
            backup.Id.ToString(), null, after));
}
