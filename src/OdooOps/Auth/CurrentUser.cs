using System.Security.Claims;

namespace OdooOps.Auth;

/// <summary>What the authentication handlers put into a principal, and how handlers read it back.</summary>
internal static class CurrentUser
{
    public const string ScopeClaim = "odooops:scope";
    public const string TokenIdClaim = "odooops:token_id";

    /// <summary>The signed-in user's id; endpoints behind RequireAuthorization always have one.</summary>
    public static Guid UserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? id
            : throw new InvalidOperationException("No signed-in user.");

    public static Guid? UserIdOrNull(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;

    /// <summary>Sessions may write; a personal access token only with scope "write".</summary>
    public static bool CanWrite(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(ScopeClaim) is null or "write";

    public static ClaimsPrincipal Create(Guid userId, string? email, string? name, string scheme, string? scope = null, Guid? tokenId = null, Guid? sessionId = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, userId.ToString()) };
        if (email is not null) claims.Add(new Claim(ClaimTypes.Email, email));
        if (name is not null) claims.Add(new Claim(ClaimTypes.Name, name));
        if (scope is not null) claims.Add(new Claim(ScopeClaim, scope));
        if (tokenId is not null) claims.Add(new Claim(TokenIdClaim, tokenId.Value.ToString()));
        if (sessionId is not null) claims.Add(new Claim(Sessions.Claim, sessionId.Value.ToString()));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }
}
