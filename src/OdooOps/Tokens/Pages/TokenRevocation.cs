using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Tokens.Pages;

/// <summary>The tokens page's "Revoke" button: TokenStore.RevokeAsync and its audit row in one transaction.</summary>
public static class TokenRevocation
{
    public abstract record Outcome;
    public sealed record Revoked(TokenInfo Token) : Outcome;
    public sealed record AlreadyRevoked(TokenInfo Token) : Outcome;
    /// <summary>No such token among the user's own: another user's id looks exactly like a made-up one (RLS).</summary>
    public sealed record NotFound : Outcome;

    public static Task<Outcome> RevokeAsync(OpsDatabase db, Guid userId, Guid tokenId, Guid? auditOrgId, System.Net.IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<Outcome>(userId, async (c, t) =>
        {
            // Read first, so a second click (or a reload of the POST) neither logs a second revocation nor claims one.
            var before = (await TokenStore.ListAsync(c, t)).FirstOrDefault(x => x.Id == tokenId);
            if (before is null) return new NotFound();
            if (before.RevokedAt is not null) return new AlreadyRevoked(before);
            if (await TokenStore.RevokeAsync(c, t, tokenId) is not { } after) return new NotFound();
            if (auditOrgId is { } orgId)
                await AuditLog.WriteAsync(c, t, userId, new(orgId, null, "token.revoke", "token", tokenId.ToString(), before, after), ip);
            return new Revoked(after);
        }, ct);
}
