using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Projects;

/// <summary>The settings page tests' form bodies and look-ups, all as the database owner (no RLS in the way).</summary>
public sealed partial class ProjectSettingsPageTests
{
    static string Url(string slug) => $"/app/projects/{slug}/settings";

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex Secrets();

    static Dictionary<string, string> General(string name, string slug, string repo, string version) => new()
    {
        ["Input.Name"] = name, ["Input.Slug"] = slug, ["Input.RepoUrl"] = repo, ["Input.RuntimeVersion"] = version,
    };

    sealed record ProjectRow(string Name, string Slug, string RepoUrl, string RuntimeVersion, DateTime UpdatedAt);

    async Task<ProjectRow> RowAsync(Guid projectId)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.QuerySingleAsync<ProjectRow>(
            "select name, slug, repo_url, runtime_version, updated_at from ops.projects where id = @projectId", new { projectId });
    }

    Task<string[]> LabelsAsync(Guid projectId) =>
        world.ScalarAsync<string[]>("select runner_labels from ops.projects where id = @projectId", new { projectId });

    sealed record AuditRow(string Action, string Email, string? Before, string? After);

    async Task<List<AuditRow>> AuditAsync(Guid projectId)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<AuditRow>("""
            select a.action, u.email, a.before::text as before, a.after::text as after
              from ops.audit_log a join registry.users u on u.id = a.actor_user_id
             where a.project_id = @projectId order by a.id
            """, new { projectId })];
    }
}
