using System.Net;
using Dapper;
using Npgsql;

namespace OdooOps.Webhooks;

/// <summary>The webhook secret's status for a project admin (never the secret itself).</summary>
internal sealed record WebhookSecretStatus(bool SecretSet, DateTime? RotatedAt);

/// <summary>
/// What ops.webhook_push did: see the comment of Webhooks/Sql/ops.webhook_push.sql for each outcome. (Properties, not a
/// constructor: Dapper reports uuid[] as System.Array and would match no constructor.)
/// </summary>
internal sealed record PushOutcome
{
    public string Outcome { get; init; } = "";
    public Guid? BranchId { get; init; }
    public bool BranchCreated { get; init; }
    public Guid? BuildId { get; init; }
    public string? BuildStatus { get; init; }
    public Guid[] CancelledBuildIds { get; init; } = [];
    public int? QueuedBuilds { get; init; }
}

/// <summary>
/// The webhooks' SQL. The secret lives in the owner-only ops_private.project_webhooks and is reached only through
/// SECURITY DEFINER functions: status and rotation as the acting user (project admin, checked again in SQL), the
/// key and the push as the ops_service login.
/// </summary>
internal static class WebhookStore
{
    public static Task<WebhookSecretStatus> StatusAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId) =>
        conn.QuerySingleAsync<WebhookSecretStatus>("select secret_set, rotated_at from ops.webhook_settings(@projectId)", new { projectId }, tx);

    /// <summary>Replaces the project's secret with <paramref name="secret"/>; hooks signed with the old one fail from the commit on.</summary>
    public static Task<DateTime> RotateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, string secret) =>
        conn.ExecuteScalarAsync<DateTime>("select ops.rotate_webhook_secret(@projectId, @secret)", new { projectId, secret }, tx);

    /// <summary>
    /// The key of the project's hooks (null: unknown or archived project, or no secret). The row stays share-locked
    /// until <paramref name="tx"/> ends, so a rotation cannot slip between verifying a hook and acting on it.
    /// </summary>
    public static Task<string?> SigningKeyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId) =>
        conn.ExecuteScalarAsync<string?>("select ops.webhook_signing_key(@projectId)", new { projectId }, tx);

    /// <param name="deliveryId">The host's id of this delivery; <paramref name="bodySha256"/> the digest of a signed body (GitHub):
    /// either seen in the last 24 hours makes the outcome <c>duplicate</c>, with nothing done.</param>
    public static Task<PushOutcome> PushAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, string provider, string branch,
        GitPush push, bool cancelSuperseded, int maxQueued, IPAddress? ip, string? deliveryId, byte[]? bodySha256) =>
        conn.QuerySingleAsync<PushOutcome>("""
            select outcome, branch_id, branch_created, build_id, build_status, cancelled_build_ids, queued_builds
              from ops.webhook_push(@projectId, @provider, @branch, @sha, @Message, @Deleted, @cancelSuperseded, @maxQueued, @ip::inet,
                                    @deliveryId, @bodySha256, @committedAt)
            """,
            new
            {
                projectId, provider, branch, sha = push.Deleted ? null : push.After, push.Message, push.Deleted, cancelSuperseded, maxQueued,
                ip = ip?.ToString(), deliveryId, bodySha256, committedAt = push.CommittedAt?.UtcDateTime,
            }, tx);
}
