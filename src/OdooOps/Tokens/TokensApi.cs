using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Tokens;

/// <summary>/api/ops/tokens — the caller's personal access tokens: list (with last use), create (shown once), revoke.</summary>
public static class TokensApi
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

    public static Validation Validate(CreateToken body)
    {
        var v = new Validation().Required("name", body.Name, 100).Required("scope", body.Scope).OneOf("scope", body.Scope, "read", "write");
        if (body.ExpiresInDays is < 1 or > 3650) v.Add("expires_in_days", "expires_in_days must be between 1 and 3650.");
        return v;
    }

    static async Task<Ok<TokenList>> List(ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new TokenList(await db.AsUserAsync(user.UserId(), TokenStore.ListAsync, ct)));

    static async Task<Results<Created<NewToken>, ValidationProblem>> Create(CreateToken body, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = Validate(body);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var userId = user.UserId();
        var lifetime = body.ExpiresInDays is { } d ? TimeSpan.FromDays(d) : (TimeSpan?)null;
        var token = await db.AsUserAsync(userId, (c, t) => TokenStore.CreateAsync(c, t, userId, body.Name!.Trim(), body.Scope!, lifetime), ct);
        return TypedResults.Created($"/api/ops/tokens/{token.Id}", token);
    }

    static async Task<Results<NoContent, NotFound>> Revoke(Guid tokenId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => TokenStore.RevokeAsync(c, t, tokenId), ct) is null
            ? TypedResults.NotFound()
            : TypedResults.NoContent();
}
