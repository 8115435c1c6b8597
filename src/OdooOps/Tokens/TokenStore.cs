using Dapper;
using Npgsql;
using OdooOps.Auth;

namespace OdooOps.Tokens;

internal sealed record TokenInfo(Guid Id, string Name, string TokenPrefix, string Scope, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt, DateTime? RevokedAt);

public sealed record NewToken(Guid Id, string Name, string TokenPrefix, string Scope, DateTime CreatedAt, DateTime? ExpiresAt, string Token);

/// <summary>Personal access tokens' SQL: a user's own (RLS holds users to theirs). The token is returned once; only its hash is kept.</summary>
internal static class TokenStore
{
    const string Columns = "id, name, token_prefix, scope, created_at, expires_at, last_used_at, revoked_at";

    public static async Task<IReadOnlyList<TokenInfo>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx) =>
        [.. await conn.QueryAsync<TokenInfo>($"select {Columns} from ops.api_tokens where user_id = ops.current_user_id() order by created_at desc", transaction: tx)];

    public static async Task<NewToken> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid userId, string name, string scope, TimeSpan? lifetime)
    {
        var token = AccessTokens.Create(AccessTokens.PersonalPrefix);
        var row = await conn.QuerySingleAsync<TokenInfo>($"""
            insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope, expires_at)
            values (@userId, @name, @prefix, @hash, @scope, now() + @lifetime)
            returning {Columns}
            """, new { userId, name, prefix = AccessTokens.Preview(token), hash = AccessTokens.Hash(token), scope, lifetime }, tx);
        return new NewToken(row.Id, row.Name, row.TokenPrefix, row.Scope, row.CreatedAt, row.ExpiresAt, token);
    }

    public static Task<TokenInfo?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid userId, Guid id) =>
        conn.QuerySingleOrDefaultAsync<TokenInfo>($"select {Columns} from ops.api_tokens where id = @id and user_id = @userId", new { id, userId }, tx);

    public static Task<TokenInfo?> RevokeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid userId, Guid id) =>
        conn.QuerySingleOrDefaultAsync<TokenInfo>($"""
            update ops.api_tokens set revoked_at = coalesce(revoked_at, now())
             where id = @id and user_id = @userId
            returning {Columns}
            """, new { id, userId }, tx);
}
