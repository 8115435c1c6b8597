using System.Text.Json;
using Dapper;
using Npgsql;

namespace OdooOps.Audit;

/// <summary>
/// One row per state change, written in the same transaction as the change (so there is no change without its
/// row, and no row without its change): who, what, when, and before/after where it matters.
/// </summary>
public static class AuditLog
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public sealed record Entry(Guid OrgId, Guid? ProjectId, string Action, string TargetType, string TargetId, object? Before = null, object? After = null);

    public static Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid actorUserId, Entry e, System.Net.IPAddress? ip, string actor = "user") =>
        // No RETURNING: a non-admin may write the row but not read it back (RLS).
        conn.ExecuteAsync("""
            insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip)
            values (@OrgId, @ProjectId, @actorUserId, @actor, @Action, @TargetType, @TargetId, @before::jsonb, @after::jsonb, @ip::inet)
            """,
            new
            {
                e.OrgId, e.ProjectId, actorUserId, actor, e.Action, e.TargetType, e.TargetId,
                before = e.Before is null ? null : JsonSerializer.Serialize(e.Before, Json),
                after = e.After is null ? null : JsonSerializer.Serialize(e.After, Json),
                ip = ip?.ToString(),
            }, tx);
}
