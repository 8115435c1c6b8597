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
internal static class ProjectStore
{
    const string Columns = "id, org_id, name, slug, repo_url, runtime_version, created_at, updated_at, last_activity_at";

    /// <summary>One statement for the whole list (ops.list_projects joins branches, builds and advisories set-based).</summary>
    public static async Task<IReadOnlyList<ProjectSummary>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid? orgId = null) =>
        [.. await conn.QueryAsync<ProjectSummary>(
            "select * from ops.list_projects() where @orgId::uuid is null or org_id = @orgId", new { orgId }, tx)];

    /// <summary>
    /// One page of an org's projects (newest activity first), optionally filtered by name or slug, and the count
    /// of all that match. The limit reaches into ops.list_projects (an inlinable SQL function), so a page of 50
    /// looks up branches, builds and advisories for 50 projects, not for the whole organisation.
    /// </summary>
    public static async Task<(IReadOnlyList<ProjectSummary> Page, int Total)> PageAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string? search, int offset, int limit)
    {
        var pattern = string.IsNullOrWhiteSpace(search) ? null : $"%{EscapeLike(search.Trim())}%";
        var total = await conn.ExecuteScalarAsync<int>("""
            select count(*) from ops.projects
             where org_id = @orgId and archived_at is null
               and (@pattern::text is null or name ilike @pattern or slug ilike @pattern)
            """, new { orgId, pattern }, tx);
        var page = await conn.QueryAsync<ProjectSummary>("""
            select * from ops.list_projects()
             where org_id = @orgId and (@pattern::text is null or name ilike @pattern or slug ilike @pattern)
             order by last_activity_at desc, name, id
             limit @limit offset @offset
            """, new { orgId, pattern, limit, offset }, tx);
        return ([.. page], total);
    }

    static string EscapeLike(string s) => s.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    public sealed record ProjectName(Guid Id, string Slug, string Name);

    /// <summary>An organisation's live projects by name, for pickers (the Metrics page).</summary>
    public static async Task<IReadOnlyList<ProjectName>> NamesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId) =>
        [.. await conn.QueryAsync<ProjectName>(
            "select id, slug, name from ops.projects where org_id = @orgId and archived_at is null order by name, slug", new { orgId }, tx)];

    public static Task<ProjectSummary?> GetSummaryAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id) =>
        conn.QuerySingleOrDefaultAsync<ProjectSummary>("select * from ops.list_projects() where id = @id", new { id }, tx);

    public static Task<ProjectSummary?> GetSummaryBySlugAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string slug) =>
        conn.QuerySingleOrDefaultAsync<ProjectSummary>("select * from ops.list_projects() where org_id = @orgId and slug = @slug", new { orgId, slug }, tx);

    public static Task<Project?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id) =>
        conn.QuerySingleOrDefaultAsync<Project>($"select {Columns} from ops.projects where id = @id", new { id }, tx);

    /// <summary>The signed-in user's role on a project (org role or project membership, whichever is higher); null: none.</summary>
    public static Task<string?> RoleAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId) =>
        conn.ExecuteScalarAsync<string?>("select ops.project_role(@projectId)", new { projectId }, tx);

    public static Task<Project> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string name, string? slug, string repoUrl, string? runtimeVersion) =>
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
