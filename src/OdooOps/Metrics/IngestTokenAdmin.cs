using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Metrics;

/// <summary>
/// Creating and revoking a project's ingest tokens, for /api/ops/projects/{id}/ingest-tokens, the project settings page
/// and (through the API) `odooops ingest-tokens`: one transaction with its <c>ingest_token.create</c> /
/// <c>ingest_token.revoke</c> audit row (the name and preview, never the token). RLS lets project admins; below that
/// the database refuses (42501).
/// </summary>
internal static class IngestTokenAdmin
{
    public const int MaxNameLength = 200;

    public static Validation Validate(string field, string? name) => new Validation().Required(field, name?.Trim(), MaxNameLength);

    /// <summary>The new token (in this answer only); null when the project is not there for this user.</summary>
    public static async Task<NewIngestToken?> CreateAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, string name)
    {
        if (await ProjectStore.GetAsync(c, t, projectId) is not { } project) return null;
        var created = await IngestTokenStore.CreateAsync(c, t, projectId, actor.UserId, name.Trim());
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "ingest_token.create", "ingest_token", created.Id.ToString(),
            After: new { created.Name, created.TokenPrefix }));
        return created;
    }

    /// <summary>Revokes it (audited once: revoking twice changes nothing); false when there is no such token of the project.</summary>
    public static async Task<bool> RevokeAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid tokenId)
    {
        if (await IngestTokenStore.GetAsync(c, t, projectId, tokenId) is not { } before) return false;
        if (await IngestTokenStore.RevokeAsync(c, t, projectId, tokenId))
        {
            var project = (await ProjectStore.GetAsync(c, t, projectId))!;
            await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "ingest_token.revoke", "ingest_token", tokenId.ToString(),
                Before: new { before.Name, before.TokenPrefix }));
        }
        return true;
    }
}
