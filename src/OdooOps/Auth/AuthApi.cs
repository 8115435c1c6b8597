using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Database;
using OdooOps.Orgs;
using OdooOps.Server;
using OdooOps.Tokens;

namespace OdooOps.Auth;

/// <summary>
/// /api/ops/auth/token: email + password → a personal access token (what `odooops login` uses), under the same
/// throttling and lockout as the sign-in page. /api/ops/me: who the caller is and their organisations.
/// </summary>
internal static class AuthApi
{
    public sealed record PasswordTokenRequest(string? Email, string? Password, string? Name, string? Scope, int? ExpiresInDays);
    public sealed record Me(Guid Id, string? Email, string? DisplayName, IReadOnlyList<OrgMembership> Orgs);

    public static RouteGroupBuilder MapAuthApi(this RouteGroupBuilder api)
    {
        api.MapPost("/auth/token", CreateToken).AllowAnonymous().WithTags("Auth")
            .WithSummary("Exchange email and password for a personal access token (shown once)");
        api.MapGet("/me", GetMe).WithTags("Auth");
        return api;
    }

    static async Task<Results<Created<NewToken>, ValidationProblem, ProblemHttpResult>> CreateToken(
        PasswordTokenRequest body, SignInService signIn, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var (tokenRequest, v) = TokensApi.Read(new TokensApi.CreateToken(body.Name ?? "odooops CLI", body.Scope ?? "write", body.ExpiresInDays ?? 90));
        v.Required("email", body.Email, 320).Required("password", body.Password, 1000);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        switch (await signIn.SignInAsync(body.Email!, body.Password!, http.Connection.RemoteIpAddress, ct))
        {
            case SignInService.Success s:
                var actor = Audit.Actor.User(s.UserId, http.Connection.RemoteIpAddress);
                var token = await db.AsUserAsync(s.UserId, (c, t) => PersonalTokens.CreateAsync(c, t, actor, s.UserId, tokenRequest), ct);
                return TypedResults.Created($"/api/ops/tokens/{token.Id}", token);
            case SignInService.Throttled th:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(th.RetryAfter.TotalSeconds)).ToString();
                return TypedResults.Problem("Too many sign-in attempts from this address; try again in a minute.", statusCode: 429, title: "Too many requests");
            default:
                return TypedResults.Problem("Wrong email or password.", statusCode: 401, title: "Unauthorized");
        }
    }

    static async Task<Ok<Me>> GetMe(ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var userId = user.UserId();
        return TypedResults.Ok(await db.AsUserAsync(userId, async (c, t) =>
        {
            var (email, name) = await Dapper.SqlMapper.QuerySingleAsync<(string, string?)>(c,
                "select email, display_name from registry.users where id = @userId", new { userId }, t);
            return new Me(userId, email, name, await OrgStore.ListAsync(c, t));
        }, ct));
    }
}
