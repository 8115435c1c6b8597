using Dapper;
using Npgsql;

namespace OdooOps.Projects;

public sealed record ProjectSummary(
    Guid Id, Guid OrgId, string Name, string Slug, string RepoUrl, string RuntimeVersion,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime LastActivityAt,
    Guid? ProductionBranchId, string? ProductionBranch, Guid? LastBuildId, string? LastBuildStatus, DateTime? LastBuildAt,
    int OpenAdvisories);

public sealed record Project(Guid Id, Guid OrgId, string Name, string Slug, string RepoUrl, string RuntimeVersion,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime LastActivityAt);

/// <summary>Projects' SQL. Runs inside a user transaction: RLS decides what exists.</summary>
public static class ProjectStore
{
    const string Columns = "id, org_id, name, slug, repo_url, runtime_version, created_at, updated_at, last_activity_at";

    /// <summary>One statement for the whole list (ops.list_projects joins branches, builds and advisories set-based).</summary>
    public static async Task<IReadOnlyList<ProjectSummary>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid? orgId = null) =>
        [.. await conn.QueryAsync<ProjectSummary>(
            "select * from ops.list_projects() where @orgId::uuid is null or org_id = @orgId", new { orgId }, tx)];

    public static Task<ProjectSummary?> GetSummaryAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id) =>
        conn.QuerySingleOrDefaultAsync<ProjectSummary>("select * from ops.list_projects() where id = @id", new { id }, tx);

    public static Task<ProjectSummary?> GetSummaryBySlugAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string slug) =>
        conn.QuerySingleOrDefaultAsync<ProjectSummary>("select * from ops.list_projects() where org_id = @orgId and slug = @slug", new { orgId, slug }, tx);

    public static Task<Project?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id) =>
        conn.QuerySingleOrDefaultAsync<Project>($"select {Columns} from ops.projects where id = @id", new { id }, tx);

    public static Task<Project> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string name, string? slug, string repoUrl, string runtimeVersion) =>
        conn.QuerySingleAsync<Project>(
            $"select {Columns} from ops.create_project(@orgId, @name, @slug, @repoUrl, @runtimeVersion)",
            new { orgId, name, slug, repoUrl, runtimeVersion }, tx);

    public static Task<Project?> UpdateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, string? name, string? slug, string? repoUrl, string? runtimeVersion) =>
        conn.QuerySingleOrDefaultAsync<Project>($"""
            update ops.projects
               set name = coalesce(@name, name), slug = coalesce(@slug, slug),
                   repo_url = coalesce(@repoUrl, repo_url), runtime_version = coalesce(@runtimeVersion, runtime_version)
             where id = @id
            returning {Columns}
            """, new { id, name, slug, repoUrl, runtimeVersion }, tx);

    public static async Task<bool> DeleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id) =>
        await conn.ExecuteAsync("delete from ops.projects where id = @id", new { id }, tx) == 1;

    /// <summary>The database's own slug rule (ops.slugify), so API and SQL callers get the same slug.</summary>
    public static async Task<string> SlugFromNameAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string name) =>
        await conn.ExecuteScalarAsync<string>("select coalesce(nullif(ops.slugify(@name), ''), 'project')", new { name }, tx) ?? "project";

    public static Task<bool> SlugTakenAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string slug, Guid? except = null) =>
        conn.ExecuteScalarAsync<bool>(
            "select exists (select 1 from ops.projects where org_id = @orgId and slug = @slug and id is distinct from @except)",
            new { orgId, slug, except }, tx);
}
