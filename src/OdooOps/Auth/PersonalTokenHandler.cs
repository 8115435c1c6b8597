using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Auth;

/// <summary>`Authorization: Bearer oo_pat_…`: looks the token's hash up through ops_service; expired or revoked tokens fail.</summary>
internal sealed class PersonalTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, OpsDatabase database)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PersonalAccessToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var token = header["Bearer ".Length..].Trim();
        if (!token.StartsWith(AccessTokens.PersonalPrefix, StringComparison.Ordinal))
            return AuthenticateResult.Fail("Not a personal access token.");

        await using var conn = await database.Service.OpenConnectionAsync(Context.RequestAborted);
        var row = await conn.QuerySingleOrDefaultAsync<(Guid TokenId, Guid UserId, string Scope)?>(
            "select token_id, user_id, scope from ops.authenticate_api_token(@hash)", new { hash = AccessTokens.Hash(token) });
        if (row is not { } r) return AuthenticateResult.Fail("Invalid, expired or revoked token.");
        var principal = CurrentUser.Create(r.UserId, null, null, SchemeName, r.Scope, r.TokenId);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        ApiProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            "Sign in, or send a valid personal access token as 'Authorization: Bearer oo_pat_…'.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", "Your role does not allow this.");
}
