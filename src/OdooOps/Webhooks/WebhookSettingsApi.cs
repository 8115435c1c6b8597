using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Secrets;

namespace OdooOps.Webhooks;

/// <summary>
/// /api/ops/projects/{projectId}/webhook — for project (and organisation) admins: the two hook URLs, whether a
/// secret is set and when it was last rotated; POST …/rotate makes a new secret, in that answer only. Both leave an
/// audit row, which never holds the secret.
/// </summary>
public static class WebhookSettingsApi
{
    public sealed record WebhookInfo(string GithubUrl, string GitlabUrl, bool SecretSet, DateTime? RotatedAt);
    public sealed record RotatedSecret(string GithubUrl, string GitlabUrl, string Secret, DateTime RotatedAt);

    public static RouteGroupBuilder MapWebhookSettingsApi(this RouteGroupBuilder api, WebhookSettings settings)
    {
        api.MapGet("/projects/{projectId:guid}/webhook",
                (Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) => GetAsync(projectId, user, db, http, settings, ct))
            .RequireAuthorization(AccessPolicies.Project("admin")).WithTags("Webhooks")
            .WithSummary("The project's GitHub and GitLab webhook URLs, whether a secret is set and when it was rotated (never the secret)");
        api.MapPost("/projects/{projectId:guid}/webhook/rotate",
                (Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) => RotateAsync(projectId, user, db, http, settings, ct))
            .RequireAuthorization(AccessPolicies.Project("admin"), AccessPolicies.Write).WithTags("Webhooks")
            .WithSummary("Make a new webhook secret (the old one stops working at once); the secret is in this answer only");
        return api;
    }

    static async Task<Ok<WebhookInfo>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, WebhookSettings settings, CancellationToken ct)
    {
        var userId = user.UserId();
        var status = await db.AsUserAsync(userId, async (c, t) =>
        {
            var current = await WebhookStore.StatusAsync(c, t, projectId);
            await AuditAsync(c, t, userId, projectId, "webhook.view", null, null, http);
            return current;
        }, ct);
        var baseUrl = settings.BaseUrl(http.Request);
        return TypedResults.Ok(new WebhookInfo(baseUrl + WebhooksApi.GitHubPath(projectId), baseUrl + WebhooksApi.GitLabPath(projectId),
            status.SecretSet, status.RotatedAt));
    }

    static async Task<Ok<RotatedSecret>> RotateAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, WebhookSettings settings, CancellationToken ct)
    {
        var userId = user.UserId();
        var secret = OpsSecrets.Generate(); // 32 random bytes as 64 hex characters: fits GitHub's and GitLab's secret fields
        var rotatedAt = await db.AsUserAsync(userId, async (c, t) =>
        {
            var before = await WebhookStore.StatusAsync(c, t, projectId);
            var at = await WebhookStore.RotateAsync(c, t, projectId, secret);
            await AuditAsync(c, t, userId, projectId, "webhook.rotate", new { before.SecretSet, before.RotatedAt }, new { RotatedAt = at }, http);
            return at;
        }, ct);
        http.Response.Headers.CacheControl = "no-store";
        var baseUrl = settings.BaseUrl(http.Request);
        return TypedResults.Ok(new RotatedSecret(baseUrl + WebhooksApi.GitHubPath(projectId), baseUrl + WebhooksApi.GitLabPath(projectId), secret, rotatedAt));
    }

    static async Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid userId, Guid projectId, string action, object? before, object? after, HttpContext http)
    {
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, userId, new(project.OrgId, projectId, action, "project", projectId.ToString(), before, after),
            http.Connection.RemoteIpAddress);
    }
}
