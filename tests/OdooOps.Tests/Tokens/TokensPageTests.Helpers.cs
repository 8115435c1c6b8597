using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Auth;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Tokens;

/// <summary>The tokens page tests' users, tokens and look-ups, all as the database owner (no RLS in the way).</summary>
public sealed partial class TokensPageTests
{
    public sealed record SignedIn(Guid Id, string Email, HttpClient Client);
    public sealed record StoredToken(Guid Id, Guid UserId, string Name, string Scope, int? Days);
    public sealed record AuditRow(string Action, Guid? OrgId, Guid? ActorUserId, string Actor, string TargetType, string Json);

    /// <summary>A whole personal access token: the prefix and 43 base62 characters (a listed preview is 5 of them and "…").</summary>
    [GeneratedRegex("oo_pat_[0-9A-Za-z]{43}")]
    private static partial Regex FullTokens();

    static Dictionary<string, string> NewToken(string name, string scope, string expiry) => new()
    {
        ["Input.Name"] = name, ["Input.Scope"] = scope, ["Input.Expiry"] = expiry,
    };

    /// <summary>The markup of one token's table row, found by its id.</summary>
    static string Row(string html, Guid tokenId) =>
        Regex.Match(html, $"<tr data-token-id=\"{tokenId}\".*?</tr>", RegexOptions.Singleline) is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException($"No row for token {tokenId} in the page.");

    /// <summary>A new user (a developer of org A, or of no org at all), signed in on a client of their own.</summary>
    async Task<SignedIn> SignedInUserAsync(bool withOrg = true)
    {
        var email = $"{world.Unique("tokens")}@a.test";
        var id = withOrg
            ? await Accounts.CreateUserAsync(world.Factory.Owner, email, world.OrgA, "developer")
            : await Accounts.CreateUserAsync(world.Factory.Owner, email);
        var client = world.Anonymous();
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(client, email)).StatusCode);
        return new SignedIn(id, email, client);
    }

    /// <summary>A token made as an administrator would (not through the page), with a name and state of the test's choosing.</summary>
    async Task<(Guid Id, string Token)> InsertTokenAsync(Guid userId, string name, string scope,
        DateTime? expiresAt = null, DateTime? lastUsedAt = null, bool revoked = false)
    {
        var token = AccessTokens.Create(AccessTokens.PersonalPrefix);
        var id = await world.ScalarAsync<Guid>("""
            insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope, expires_at, last_used_at, revoked_at, created_at)
            values (@userId, @name, @prefix, @hash, @scope, @expiresAt, @lastUsedAt, case when @revoked then now() end, clock_timestamp())
            returning id
            """, new { userId, name, prefix = AccessTokens.Preview(token), hash = AccessTokens.Hash(token), scope, expiresAt, lastUsedAt, revoked });
        return (id, token);
    }

    /// <summary>The row stored for a token, found by the SHA-256 of it; Days is its lifetime (null: never expires).</summary>
    async Task<StoredToken> TokenRowAsync(string token)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.QuerySingleAsync<StoredToken>("""
            select id, user_id, name, scope, extract(epoch from expires_at - created_at)::int / 86400 as days
              from ops.api_tokens where token_hash = @hash
            """, new { hash = AccessTokens.Hash(token) });
    }

    Task<long> TokenCountAsync(Guid userId) =>
        world.ScalarAsync<long>("select count(*) from ops.api_tokens where user_id = @userId", new { userId });

    /// <summary>The audit rows about one token, oldest first, each with the whole row as JSON to search for secrets.</summary>
    async Task<List<AuditRow>> AuditRowsAsync(Guid tokenId)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<AuditRow>("""
            select action, org_id, actor_user_id, actor, target_type, jsonb_pretty(to_jsonb(a)) as json
              from ops.audit_log a where target_id = @id order by id
            """, new { id = tokenId.ToString() })];
    }
}
