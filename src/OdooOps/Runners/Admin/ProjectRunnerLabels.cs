using System.Net;
using Dapper;
using Npgsql;
using OdooOps.Audit;

namespace OdooOps.Runners.Admin;

/// <summary>
/// A project's runner labels, read and set the same way by PUT /api/ops/projects/{id}/runner-labels and the console's
/// settings page: the list is deduplicated and sorted, and each change is one transaction with its
/// <c>project.runner_labels</c> audit row. Callers validate first (<see cref="Protocol.RunnerLabelRules.Validate"/>).
/// </summary>
internal static class ProjectRunnerLabels
{
    /// <summary>Null: no such project (for this user).</summary>
    public static Task<string[]?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.QuerySingleOrDefaultAsync<string[]?>("select runner_labels from ops.projects where id = @projectId", new { projectId }, t);

    /// <summary>Stores the labels, as saved (sorted, no duplicates); null when the project is not there for this user.</summary>
    public static async Task<string[]?> SetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid userId, Guid projectId,
        IReadOnlyList<string> labels, IPAddress? ip)
    {
        string[] saved = [.. labels.Distinct().Order(StringComparer.Ordinal)];
        var before = await c.QuerySingleOrDefaultAsync<(Guid OrgId, string[] Labels)?>(
            "select org_id, runner_labels from ops.projects where id = @projectId for update", new { projectId }, t);
        if (before is not { } b) return null;
        await c.ExecuteAsync("update ops.projects set runner_labels = @saved where id = @projectId", new { projectId, saved }, t);
        await AuditLog.WriteAsync(c, t, Actor.User(userId, ip), new(b.OrgId, projectId, "project.runner_labels", "project", projectId.ToString(),
            new { labels = b.Labels }, new { labels = saved }));
        return saved;
    }
}
