using Dapper;
using Npgsql;

namespace OdooOps.Branches;

internal sealed record BranchSummary(Guid Id, Guid ProjectId, string Name, string Stage, bool IsProduction,
    DateTime CreatedAt, DateTime UpdatedAt, Guid? LastBuildId, string? LastBuildStatus, DateTime? LastBuildAt);

internal sealed record Branch(Guid Id, Guid ProjectId, string Name, string Stage, bool IsProduction, DateTime CreatedAt, DateTime UpdatedAt, DateTime? ArchivedAt);

/// <summary>Branches' SQL, inside a user transaction (RLS and the RPCs enforce stage rules).</summary>
internal static class BranchStore
{
    public static readonly string[] Stages = ["development", "staging", "production"];
    const string Columns = "id, project_id, name, stage, is_production, created_at, updated_at, archived_at";

    public static async Task<IReadOnlyList<BranchSummary>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId) =>
        [.. await conn.QueryAsync<BranchSummary>("select * from ops.project_branches(@projectId)", new { projectId }, tx)];

    public static Task<Branch?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid branchId) =>
        conn.QuerySingleOrDefaultAsync<Branch>($"select {Columns} from ops.branches where id = @branchId and project_id = @projectId",
            new { projectId, branchId }, tx);

    public static Task<Branch?> GetByNameAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, string name) =>
        conn.QuerySingleOrDefaultAsync<Branch>($"select {Columns} from ops.branches where project_id = @projectId and name = @name",
            new { projectId, name }, tx);

    public static Task<Branch> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, string name, string stage) =>
        conn.QuerySingleAsync<Branch>($"select {Columns} from ops.create_branch(@projectId, @name, @stage)", new { projectId, name, stage }, tx);

    /// <summary>Moving to production demotes the current production branch to staging in the same statement.</summary>
    public static Task<Branch> SetStageAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid branchId, string stage) =>
        conn.QuerySingleAsync<Branch>($"select {Columns} from ops.set_branch_stage(@branchId, @stage)", new { branchId, stage }, tx);

    public static Task<Branch?> ArchiveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid branchId) =>
        conn.QuerySingleOrDefaultAsync<Branch>($"""
            update ops.branches set archived_at = now()
             where id = @branchId and project_id = @projectId and archived_at is null
            returning {Columns}
            """, new { projectId, branchId }, tx);
}
