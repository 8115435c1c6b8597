using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Webhooks;

/// <summary>
/// /api/ops/projects/{projectId}/webhook — for project (and organisation) admins: the two hook URLs, whether a
/// secret is set and when it was last rotated; POST …/rotate makes a new secret, in that answer only. Both leave an
/// audit row, which never holds the secret.
/// </summary>
internal static class WebhookSettingsApi
{
    public sealed record WebhookInfo(string GithubUrl, string GitlabUrl, bool SecretSet, DateTime? RotatedAt);
    public sealed record RotatedSecret(string GithubUrl, string GitlabUrl, string Secret, DateTime RotatedAt);

    public static RouteGroupBuilder MapWebhookSettingsApi(this RouteGroupBuilder api, WebhookSettings settings)
    {
        api.MapGet("/projects/{projectId:guid}/webhook",
                (Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) => GetAsync(projectId, user, db, http, settings, ct))
            .RequireAuthorization(AccessPolicies.Project(Role.Admin)).WithTags("Webhooks")
            .WithSummary("The project's GitHub and GitLab webhook URLs, whether a secret is set and when it was rotated (never the secret)");
        api.MapPost("/projects/{projectId:guid}/webhook/rotate",
                (Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) => RotateAsync(projectId, user, db, http, settings, ct))
            .RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write).WithTags("Webhooks")
            .WithSummary("Make a new webhook secret (the old one stops working at once); the secret is in this answer only");
        return api;
    }

    static async Task<Ok<WebhookInfo>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, WebhookSettings settings, CancellationToken ct)
    {
        var status = await WebhookAdmin.ViewAsync(db, user.UserId(), projectId, http.Connection.RemoteIpAddress, ct);
        var urls = WebhookAdmin.UrlsFor(settings.BaseUrl(http.Request), projectId);
        return TypedResults.Ok(new WebhookInfo(urls.GithubUrl, urls.GitlabUrl, status.SecretSet, status.RotatedAt));
    }

    static async Task<Ok<RotatedSecret>> RotateAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, WebhookSettings settings, CancellationToken ct)
    {
        var rotated = await WebhookAdmin.RotateAsync(db, user.UserId(), projectId, http.Connection.RemoteIpAddress, ct);
        http.Response.Headers.CacheControl = "no-store";
        var urls = WebhookAdmin.UrlsFor(settings.BaseUrl(http.Request), projectId);
        return TypedResults.Ok(new RotatedSecret(urls.GithubUrl, urls.GitlabUrl, rotated.Secret, rotated.RotatedAt));
    }
}
