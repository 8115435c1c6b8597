using Npgsql;
using OdooOps.Audit;
using OdooOps.Members;
using OdooOps.Server;

namespace OdooOps.Tokens;

/// <summary>
/// Personal access tokens, for /api/ops/tokens, POST /api/ops/auth/token, the console's tokens page and the admin verb
/// `odooops token create` alike: the same rules, the token shown once, each creation and revocation audited in the same
/// transaction. The audit row goes to the organisation the caller names (the console's current one), else to the
/// user's first; a user in no organisation has no log to write it in.
/// </summary>
internal static class PersonalTokens
{
    public const int MaxNameLength = 100;
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);

    /// <param name="Lifetime">Null: the token never expires.</param>
    public sealed record Request(string? Name, string? Scope, TimeSpan? Lifetime);

    /// <summary>The names errors are reported under: the JSON fields, the form's labels or the CLI's options.</summary>
    public sealed record FieldNames(string Name, string Scope, string Lifetime);

    public static readonly FieldNames ApiFields = new("name", "scope", "expires_in_days");

    public static Validation Validate(Request r, FieldNames fields)
    {
        var v = new Validation().Required(fields.Name, r.Name, MaxNameLength).Required(fields.Scope, r.Scope).OneOf(fields.Scope, r.Scope, "read", "write");
        if (r.Lifetime is { } life && (life <= TimeSpan.Zero || life > MaxLifetime))
            v.Add(fields.Lifetime, $"{fields.Lifetime} must be a lifetime of at most 10 years.");
        return v;
    }

    /// <summary>A token for <paramref name="userId"/> (validated already): a user's own, or any user's for the system.</summary>
    public static async Task<NewToken> CreateAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid userId, Request r, Guid? auditOrgId = null)
    {
        var created = await TokenStore.CreateAsync(c, t, userId, r.Name!.Trim(), r.Scope!, r.Lifetime);
        if ((auditOrgId ?? await MemberStore.FirstOrgOfAsync(c, t, userId)) is { } orgId)
        {
            // The audit row gets a TokenInfo: that type has no field for the token or its hash.
            var logged = new TokenInfo(created.Id, created.Name, created.TokenPrefix, created.Scope, created.CreatedAt, created.ExpiresAt, null, null);
            await AuditLog.WriteAsync(c, t, actor, new(orgId, null, "token.create", "token", created.Id.ToString(), After: logged));
        }
        return created;
    }

    public abstract record Revocation;
    public sealed record Revoked(TokenInfo Token) : Revocation;
    public sealed record AlreadyRevoked(TokenInfo Token) : Revocation;
    /// <summary>No such token among the user's own: another user's id looks exactly like a made-up one (RLS).</summary>
    public sealed record NotFound : Revocation;

    public static async Task<Revocation> RevokeAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid userId, Guid tokenId, Guid? auditOrgId = null)
    {
        // Read first, so a second click (or a reload of the POST) neither logs a second revocation nor claims one.
        var before = await TokenStore.GetAsync(c, t, userId, tokenId);
        if (before is null) return new NotFound();
        if (before.RevokedAt is not null) return new AlreadyRevoked(before);
        if (await TokenStore.RevokeAsync(c, t, userId, tokenId) is not { } after) return new NotFound();
        if ((auditOrgId ?? await MemberStore.FirstOrgOfAsync(c, t, userId)) is { } orgId)
            await AuditLog.WriteAsync(c, t, actor, new(orgId, null, "token.revoke", "token", tokenId.ToString(), before, after));
        return new Revoked(after);
    }
}
