using System.Text.Json;
using Dapper;
using Npgsql;

namespace OdooOps.Audit;

/// <summary>
/// One row per state change, written in the same transaction as the change (so there is no change without its
/// row, and no row without its change): who, what, when, and before/after where it matters. The row is written by
/// ops.write_audit, the one writer the database's own use cases (webhook pushes, build triggers) call too.
/// </summary>
internal static class AuditLog
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public sealed record Entry(Guid? OrgId, Guid? ProjectId, string Action, string TargetType, string TargetId, object? Before = null, object? After = null);

    public static Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Actor actor, Entry e) =>
        conn.ExecuteAsync(
            "select ops.write_audit(@Kind, @Action, @TargetType, @TargetId, @OrgId, @ProjectId, @before::jsonb, @after::jsonb, @ip::inet)",
            new
            {
                actor.Kind, e.Action, e.TargetType, e.TargetId, e.OrgId, e.ProjectId,
                before = e.Before is null ? null : JsonSerializer.Serialize(e.Before, Json),
                after = e.After is null ? null : JsonSerializer.Serialize(e.After, Json),
                ip = actor.Ip?.ToString(),
            }, tx);
}
