using Dapper;
using Npgsql;
using OdooOps.Auth;

namespace OdooOps.Metrics;

/// <summary>Per-project ingest tokens: oo_ing_ and 256 random bits, of which only a SHA-256 is stored.</summary>
internal static class IngestTokens
{
    public const string Prefix = "oo_ing_";
}

/// <param name="RunnerId">Set when the server issued it to a runner, for the samples of the instances that runner hosts.</param>
public sealed record IngestTokenInfo(Guid Id, string Name, string TokenPrefix, Guid? CreatedBy, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt,
    Guid? RunnerId);

public sealed record NewIngestToken(Guid Id, string Name, string TokenPrefix, DateTime CreatedAt, string Token);

/// <summary>
/// ops.ingest_tokens as the acting user: RLS lets project admins (and org owners/admins) in, and the token_hash
/// column is not even selectable for ops_app.
/// </summary>
internal static class IngestTokenStore
{
    const string Columns = "id, name, token_prefix, created_by, created_at, last_used_at, revoked_at, runner_id";

    public static async Task<IReadOnlyList<IngestTokenInfo>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId) =>
        [.. await conn.QueryAsync<IngestTokenInfo>(
            $"select {Columns} from ops.ingest_tokens where project_id = @projectId order by created_at desc, id", new { projectId }, tx)];

    public static async Task<NewIngestToken> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid? userId, string name)
    {
        var token = AccessTokens.Create(IngestTokens.Prefix);
        var row = await conn.QuerySingleAsync<IngestTokenInfo>($"""
            insert into ops.ingest_tokens (project_id, name, token_prefix, token_hash, created_by)
            values (@projectId, @name, @prefix, @hash, @userId)
            returning {Columns}
            """, new { projectId, name, prefix = AccessTokens.Preview(token), hash = AccessTokens.Hash(token), userId }, tx);
        return new NewIngestToken(row.Id, row.Name, row.TokenPrefix, row.CreatedAt, token);
    }

    public static Task<IngestTokenInfo?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid id) =>
        conn.QuerySingleOrDefaultAsync<IngestTokenInfo>(
            $"select {Columns} from ops.ingest_tokens where id = @id and project_id = @projectId", new { projectId, id }, tx);

    /// <summary>Marks the token revoked; false when it already was (or is not this project's to change).</summary>
    public static async Task<bool> RevokeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid id) =>
        await conn.ExecuteAsync(
            "update ops.ingest_tokens set revoked_at = now() where id = @id and project_id = @projectId and revoked_at is null",
            new { projectId, id }, tx) == 1;
}
