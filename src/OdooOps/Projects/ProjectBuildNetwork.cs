using System.Net;
using Dapper;
using Npgsql;
using OdooOps.Audit;

namespace OdooOps.Projects;

/// <summary>
/// A project's switch for its builds' outbound network, read and set the same way by PUT
/// /api/ops/projects/{id}/build-network, the console's settings page and `odooops projects network`: one transaction
/// with its <c>project.build_network</c> audit row. Off, build steps have a loopback only (git's fetch still goes
/// out); either way nothing in a build reaches the runner host's loopback. It applies to builds not yet started.
/// </summary>
internal static class ProjectBuildNetwork
{
    /// <summary>Null: no such project (for this user).</summary>
    public static Task<bool?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.QuerySingleOrDefaultAsync<bool?>("select build_network from ops.projects where id = @projectId", new { projectId }, t);

    /// <summary>Stores the switch; null when the project is not there for this user (RLS lets project admins write).</summary>
    public static async Task<bool?> SetAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, bool outbound)
    {
        var before = await c.QuerySingleOrDefaultAsync<(Guid OrgId, bool Outbound)?>(
            "select org_id, build_network from ops.projects where id = @projectId for update", new { projectId }, t);
        if (before is not { } b) return null;
        if (await c.ExecuteAsync("update ops.projects set build_network = @outbound where id = @projectId", new { projectId, outbound }, t) == 0)
            return null;
        await AuditLog.WriteAsync(c, t, actor, new(b.OrgId, projectId, "project.build_network", "project", projectId.ToString(),
            new { outbound_access = b.Outbound }, new { outbound_access = outbound }));
        return outbound;
    }
}
