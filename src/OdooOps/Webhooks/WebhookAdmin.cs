using System.Net;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Secrets;

namespace OdooOps.Webhooks;

/// <summary>
/// What a project admin does with the webhook, shared by /api/ops/projects/{id}/webhook and the console's settings page:
/// look at its status (audited <c>webhook.view</c>) and rotate the secret (audited <c>webhook.rotate</c>). Audit rows
/// never hold the secret. Both need the admin role, which the database checks again (42501; P0002 for no project).
/// </summary>
internal static class WebhookAdmin
{
    public sealed record HookUrls(string GithubUrl, string GitlabUrl);
    public sealed record Rotated(string Secret, DateTime RotatedAt);

    /// <summary>The two hook URLs of a project, under <paramref name="baseUrl"/> (<see cref="WebhookSettings.BaseUrl"/>).</summary>
    public static HookUrls UrlsFor(string baseUrl, Guid projectId) =>
        new(baseUrl + WebhooksApi.GitHubPath(projectId), baseUrl + WebhooksApi.GitLabPath(projectId));

    public static Task<WebhookSecretStatus> ViewAsync(OpsDatabase db, Guid userId, Guid projectId, IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync(userId, async (c, t) =>
        {
            var current = await WebhookStore.StatusAsync(c, t, projectId);
            await AuditAsync(c, t, userId, projectId, "webhook.view", null, null, ip);
            return current;
        }, ct);

    /// <summary>A new secret, replacing the old one at once; the caller shows it once and never stores or logs it.</summary>
    public static async Task<Rotated> RotateAsync(OpsDatabase db, Guid userId, Guid projectId, IPAddress? ip, CancellationToken ct)
    {
        var secret = OpsSecrets.Generate(); // 32 random bytes as 64 hex characters: fits GitHub's and GitLab's secret fields
        var rotatedAt = await db.AsUserAsync(userId, async (c, t) =>
        {
            var before = await WebhookStore.StatusAsync(c, t, projectId);
            var at = await WebhookStore.RotateAsync(c, t, projectId, secret);
            await AuditAsync(c, t, userId, projectId, "webhook.rotate", new { before.SecretSet, before.RotatedAt }, new { RotatedAt = at }, ip);
            return at;
        }, ct);
        return new Rotated(secret, rotatedAt);
    }

    static async Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid userId, Guid projectId, string action, object? before, object? after, IPAddress? ip)
    {
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, Actor.User(userId, ip), new(project.OrgId, projectId, action, "project", projectId.ToString(), before, after));
    }
}
