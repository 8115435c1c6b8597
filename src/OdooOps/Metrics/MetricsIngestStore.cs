using Npgsql;
using NpgsqlTypes;
using OdooOps.Auth;

namespace OdooOps.Metrics;

/// <summary>
/// The ingest endpoint's SQL, all of it as the ops_service login through SECURITY DEFINER functions (the service
/// role has no table privileges). A batch is one statement: ops.ingest_metric_batch with the samples as binary
/// arrays, which checks the project and branches, creates missing day partitions and inserts with ON CONFLICT DO
/// NOTHING.
/// </summary>
public static class MetricsIngestStore
{
    public sealed record Outcome(int Inserted, bool Replayed);

    /// <summary>The project a per-project ingest token (oo_ing_…) belongs to; null when unknown, revoked or archived.</summary>
    public static async Task<Guid?> AuthenticateTokenAsync(NpgsqlDataSource service, string token, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("select ops.authenticate_ingest_token($1)", conn);
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = AccessTokens.Hash(token) });
        return await cmd.ExecuteScalarAsync(ct) is Guid project ? project : null;
    }

    public static async Task<Outcome> IngestAsync(NpgsqlDataSource service, IngestBatch batch, string? idempotencyKey, byte[]? requestHash, CancellationToken ct)
    {
        await using var conn = await service.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "select inserted, replayed from ops.ingest_metric_batch($1, $2, $3, $4, $5, $6, $7, $8)", conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = batch.ProjectId!.Value });
        cmd.Parameters.Add(new NpgsqlParameter<List<string>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = batch.Metrics });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, TypedValue = batch.ResolvedTimestamps() });
        cmd.Parameters.Add(new NpgsqlParameter<List<double>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double, TypedValue = batch.Values });
        cmd.Parameters.Add(Nullable(batch.Branches, NpgsqlDbType.Text));
        cmd.Parameters.Add(Nullable(batch.Labels, NpgsqlDbType.Jsonb));
        cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)idempotencyKey ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = (object?)requestHash ?? DBNull.Value });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new Outcome(reader.GetInt32(0), reader.GetBoolean(1));
    }

    static NpgsqlParameter Nullable(List<string?>? values, NpgsqlDbType elementType) => new()
    {
        NpgsqlDbType = NpgsqlDbType.Array | elementType,
        Value = (object?)values ?? DBNull.Value,
    };
}
