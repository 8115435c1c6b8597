using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Tokens;

/// <summary>/api/ops/tokens — the caller's personal access tokens: list (with last use), create (shown once), revoke.</summary>
internal static class TokensApi
{
    public sealed record TokenList(IReadOnlyList<TokenInfo> Tokens);
    public sealed record CreateToken(string? Name, string? Scope, int? ExpiresInDays);

    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("Tokens");
        tokens.MapGet("/", List);
        tokens.MapPost("/", Create).RequireAuthorization(AccessPolicies.Write).WithSummary("Create a personal access token; the token is in this answer only");
        tokens.MapDelete("/{tokenId:guid}", Revoke).RequireAuthorization(AccessPolicies.Write);
        return api;
    }

    /// <summary>The API's request in the use case's terms; days out of range are refused here, by the field's own words.</summary>
    public static (PersonalTokens.Request Request, Validation Errors) Read(CreateToken body)
    {
        var request = new PersonalTokens.Request(body.Name, body.Scope, body.ExpiresInDays is { } d and >= 1 and <= 3650 ? TimeSpan.FromDays(d) : null);
        var v = PersonalTokens.Validate(request, PersonalTokens.ApiFields);
        if (body.ExpiresInDays is < 1 or > 3650) v.Add("expires_in_days", "expires_in_days must be between 1 and 3650.");
        return (request, v);
    }

    static async Task<Ok<TokenList>> List(ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new TokenList(await db.AsUserAsync(user.UserId(), TokenStore.ListAsync, ct)));

    static async Task<Results<Created<NewToken>, ValidationProblem>> Create(CreateToken body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var (request, v) = Read(body);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        var token = await db.AsUserAsync(actor.UserId, (c, t) => PersonalTokens.CreateAsync(c, t, actor, user.UserId(), request), ct);
        return TypedResults.Created($"/api/ops/tokens/{token.Id}", token);
    }

    /// <summary>Revoking a revoked token answers 204 again: the token is revoked, as asked.</summary>
    static async Task<Results<NoContent, NotFound>> Revoke(Guid tokenId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => PersonalTokens.RevokeAsync(c, t, actor, user.UserId(), tokenId), ct) is PersonalTokens.NotFound
            ? TypedResults.NotFound()
            : TypedResults.NoContent();
    }
}
