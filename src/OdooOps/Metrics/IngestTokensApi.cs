using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
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

    static async Task<Results<Created<NewIngestToken>, ValidationProblem, NotFound>> Create(
        Guid projectId, CreateIngestToken body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (IngestTokenAdmin.Validate("name", body.Name) is { IsValid: false } v) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => IngestTokenAdmin.CreateAsync(c, t, actor, projectId, body.Name!), ct) is { } token
            ? TypedResults.Created($"/api/ops/projects/{projectId}/ingest-tokens/{token.Id}", token)
            : TypedResults.NotFound();
    }

    /// <summary>Revoking twice is fine (204 both times); only the first change is audited.</summary>
    static async Task<Results<NoContent, NotFound>> Revoke(Guid projectId, Guid tokenId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => IngestTokenAdmin.RevokeAsync(c, t, actor, projectId, tokenId), ct)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();
    }
}
