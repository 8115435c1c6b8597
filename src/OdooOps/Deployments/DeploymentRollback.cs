using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;

namespace OdooOps.Deployments;

/// <summary>
/// Rolling a branch back to an earlier deployment's release, for POST /api/ops/deployments/{id}/rollback, the console's
/// Deployments page and (through the API) `odooops deployments rollback`: ops.rollback_deployment decides (who may, what
/// is still kept) and makes the change; this adds the <c>deployment.rollback</c> audit row in the same transaction. The
/// database is not rolled back unless a backup is chosen, which is then restored on the branch's host.
/// </summary>
internal static class DeploymentRollback
{
    public const string BackupField = "backup_id";

    /// <summary>What the console and the CLI say before a rollback: the one thing people get wrong about it.</summary>
    public const string DatabaseNotice =
        "The database is not rolled back: the earlier release runs on the branch's database as it is now, unless you also restore a backup.";

    public abstract record Outcome;
    /// <param name="Rollback">The new deployment (kind rollback): live at once on production, once the release answers elsewhere.</param>
    public sealed record Started(Deployment Rollback, Guid UndoneId, Guid? RestoreTaskId) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Forbidden(string Message) : Outcome;
    public sealed record Conflict(string Message) : Outcome;
    public sealed record Invalid(string Field, string Message) : Outcome;

    sealed record Row(Guid DeploymentId, Guid UndoneId, Guid InstanceId, Guid? RestoreTaskId);

    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid deploymentId, Guid? backupId)
    {
        await t.SaveAsync("rollback");
        Row row;
        try
        {
            row = await c.QuerySingleAsync<Row>("""
                select deployment_id, undone_id, instance_id, restore_task_id from ops.rollback_deployment(@deploymentId, @backupId)
                """, new { deploymentId, backupId }, t);
        }
        catch (PostgresException e) when (e.SqlState is "P0002" or "42501" or "55000" or "22023")
        {
            await t.RollbackAsync("rollback");
            return e.SqlState switch
            {
                "P0002" => new NotFound(),
                "42501" => new Forbidden(e.MessageText),
                "55000" => new Conflict(e.MessageText),
                _ => new Invalid(e.ColumnName ?? BackupField, e.MessageText),
            };
        }
        var rollback = (await DeploymentStore.GetAsync(c, t, row.DeploymentId))!;
        var undone = (await DeploymentStore.GetAsync(c, t, row.UndoneId))!;
        var project = (await ProjectStore.GetAsync(c, t, rollback.ProjectId))!;
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, rollback.ProjectId, "deployment.rollback", "deployment", rollback.Id.ToString(),
            new { deployment_id = undone.Id, build_id = undone.BuildId, commit_sha = undone.CommitSha },
            new
            {
                branch = rollback.Branch, stage = rollback.Stage, build_id = rollback.BuildId, commit_sha = rollback.CommitSha,
                rollback_of = undone.Id, instance_id = row.InstanceId, backup_id = backupId, restore_task_id = row.RestoreTaskId,
            }));
        return new Started(rollback, row.UndoneId, row.RestoreTaskId);
    }
}
