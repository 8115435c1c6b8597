using Dapper;
using Npgsql;

namespace OdooOps.Deployments;

/// <summary>
/// A release going live on a branch, as the API, the console and the CLI show it: which build and commit, who, when, how
/// long the switch took, and its outcome. <see cref="RollbackRefusal"/>: why the caller may not go back to it now
/// (ops.rollback_refusal, the rule the rollback itself applies), so a page offers only what would succeed.
/// </summary>
public sealed record Deployment
{
    public Guid Id { get; init; }
    public Guid ProjectId { get; init; }
    public Guid BranchId { get; init; }
    public string Branch { get; init; } = "";
    public string Stage { get; init; } = "";
    /// <summary>deploying, live, superseded, failed, reverted or rolled_back.</summary>
    public string Status { get; init; } = "";
    /// <summary>build (a build's release) or rollback (an earlier release restarted).</summary>
    public string Kind { get; init; } = "";
    public Guid? BuildId { get; init; }
    public string? CommitSha { get; init; }
    public string? CommitMessage { get; init; }
    public Guid? InstanceId { get; init; }
    public Guid? CreatedBy { get; init; }
    /// <summary>Who: the build's trigger (a push has none) or the person who rolled back.</summary>
    public string? CreatedByName { get; init; }
    public DateTime? StartedAt { get; init; }
    /// <summary>When it went live (reverted: when the runner reported the revert).</summary>
    public DateTime? FinishedAt { get; init; }
    public DateTime? EndedAt { get; init; }
    /// <summary>Production: how long the site did not answer during the switch; development and staging switch without downtime (0).</summary>
    public long? SwitchMs { get; init; }
    public string? Reason { get; init; }
    /// <summary>A rollback: the deployment it undid.</summary>
    public Guid? RollbackOf { get; init; }
    /// <summary>Reverted: the build whose release the runner started again.</summary>
    public Guid? RevertedToBuildId { get; init; }
    /// <summary>Reverted: the backup restored; a rollback: the backup restored with it.</summary>
    public Guid? BackupId { get; init; }
    /// <summary>The pre-deploy backup taken before this release's update (what a rollback of it may restore).</summary>
    public Guid? PreDeployBackupId { get; init; }
    /// <summary>Why the caller may not roll the branch back to this release now (not the live one, no longer kept, the role…); null: they may.</summary>
    public string? RollbackRefusal { get; init; }
    public bool CanRollBackTo => RollbackRefusal is null;
    public DateTime CreatedAt { get; init; }
}

/// <summary>Deployments' SQL, inside a user transaction (RLS decides what exists).</summary>
internal static class DeploymentStore
{
    public static readonly string[] Statuses = ["deploying", "live", "superseded", "failed", "reverted", "rolled_back"];

    const string Select = """
        select d.id, d.project_id, d.branch_id, br.name as branch, d.stage, d.status, d.kind, d.build_id, d.commit_sha,
               bu.commit_message, d.instance_id, d.created_by, coalesce(u.display_name, u.email) as created_by_name,
               d.started_at, d.finished_at, d.ended_at, d.switch_ms, d.reason, d.rollback_of, d.reverted_to_build_id,
               d.backup_id, d.created_at,
               (select k.id from ops.backups k
                 where k.build_id = d.build_id and k.kind = 'pre-deploy' and k.status = 'succeeded' and k.deleted_at is null
                 order by k.created_at desc limit 1) as pre_deploy_backup_id,
               (select r.message from ops.rollback_refusal(d.id) r) as rollback_refusal
          from ops.deployments d
          join ops.branches br on br.id = d.branch_id
          left join ops.builds bu on bu.id = d.build_id
          left join registry.users u on u.id = d.created_by
        """;

    /// <summary>A project's deployments (optionally one branch's), newest first, a page of <paramref name="limit"/>.</summary>
    public static async Task<IReadOnlyList<Deployment>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid? branchId,
        int limit) =>
        [.. await c.QueryAsync<Deployment>($"""
            {Select}
             where d.project_id = @projectId and (@branchId::uuid is null or d.branch_id = @branchId)
             order by d.created_at desc, d.id
             limit @limit
            """, new { projectId, branchId, limit }, t)];

    public static async Task<Deployment?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid id) =>
        await c.QuerySingleOrDefaultAsync<Deployment>($"{Select} where d.id = @id", new { id }, t);

    public static async Task<bool> BranchExistsAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId) =>
        await c.ExecuteScalarAsync<bool>("select exists (select 1 from ops.branches where id = @branchId and project_id = @projectId)",
            new { projectId, branchId }, t);

    /// <summary>A deployment as a mark on a time axis (the Metrics page): when it went live, or was recorded, and what.</summary>
    public sealed record Marker(DateTime At, string Status, string Kind, Guid? BuildId, string? CommitSha);

    /// <summary>A branch's deployments in [from, to), oldest first, at most 200.</summary>
    public static async Task<IReadOnlyList<Marker>> MarkersAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId,
        DateTime from, DateTime to) =>
        [.. await c.QueryAsync<Marker>("""
            select coalesce(d.finished_at, d.created_at) as at, d.status, d.kind, d.build_id, d.commit_sha
              from ops.deployments d
             where d.project_id = @projectId and d.branch_id = @branchId
               and coalesce(d.finished_at, d.created_at) >= @from and coalesce(d.finished_at, d.created_at) < @to
             order by 1
             limit 200
            """, new { projectId, branchId, from, to }, t)];
}
