using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Metrics;

/// <summary>
/// /api/ops/projects/{projectId}/ingest-tokens — a project's tokens for its metrics agents: list, create (the token
/// is in that answer only), revoke. Project admin and up; changes need write scope and leave an audit row.
/// </summary>
internal static class IngestTokensApi
{
    public sealed record IngestTokenList(IReadOnlyList<IngestTokenInfo> Tokens);
    public sealed record CreateIngestToken(string? Name);

    public static RouteGroupBuilder MapIngestTokensApi(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/projects/{projectId:guid}/ingest-tokens").WithTags("Metrics");
        tokens.MapGet("/", List).RequireAuthorization(AccessPolicies.Project(Role.Admin));
        tokens.MapPost("/", Create).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
            .WithSummary("Create an ingest token (oo_ing_…) for this project's metrics agent; the token is in this answer only");
        tokens.MapDelete("/{tokenId:guid}", Revoke).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
            .WithSummary("Revoke an ingest token: the ingest endpoint refuses it from now on");
        return api;
    }

    static async Task<Ok<IngestTokenList>> List(Guid projectId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new IngestTokenList(await db.AsUserAsync(user.UserId(), (c, t) => IngestTokenStore.ListAsync(c, t, projectId), ct)));

    static async Task<Results<Created<NewIngestToken>, ValidationProblem>> Create(
        Guid projectId, CreateIngestToken body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation().Required("name", body.Name);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var userId = user.UserId();
        var token = await db.AsUserAsync(userId, async (c, t) =>
        {
            var project = (await ProjectStore.GetAsync(c, t, projectId))!;
            var created = await IngestTokenStore.CreateAsync(c, t, projectId, userId, body.Name!.Trim());
            await AuditLog.WriteAsync(c, t, Actor.User(userId, http.Connection.RemoteIpAddress), new(project.OrgId, projectId, "ingest_token.create", "ingest_token", created.Id.ToString(),
                After: new { created.Name, created.TokenPrefix }));
            return created;
        }, ct);
        return TypedResults.Created($"/api/ops/projects/{projectId}/ingest-tokens/{token.Id}", token);
    }

    /// <summary>Revoking twice is fine (204 both times); only the first change is audited.</summary>
    static async Task<Results<NoContent, NotFound>> Revoke(Guid projectId, Guid tokenId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var userId = user.UserId();
        return await db.AsUserAsync<Results<NoContent, NotFound>>(userId, async (c, t) =>
        {
            if (await IngestTokenStore.GetAsync(c, t, projectId, tokenId) is not { } before) return TypedResults.NotFound();
            if (await IngestTokenStore.RevokeAsync(c, t, projectId, tokenId))
            {
                var project = (await ProjectStore.GetAsync(c, t, projectId))!;
                await AuditLog.WriteAsync(c, t, Actor.User(userId, http.Connection.RemoteIpAddress), new(project.OrgId, projectId, "ingest_token.revoke", "ingest_token", tokenId.ToString(),
                    Before: new { before.Name, before.TokenPrefix }));
            }
            return TypedResults.NoContent();
        }, ct);
    }
}
