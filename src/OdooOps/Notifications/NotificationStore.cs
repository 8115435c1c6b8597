using Dapper;
using Npgsql;

namespace OdooOps.Notifications;

/// <summary>
/// Notification channels' SQL as their organisation's admins reach it: reads under RLS (owners and admins see their
/// organisation's channels and delivery log; others see none), writes through the SECURITY DEFINER functions that
/// check the role again (42501; P0002 for what the caller cannot see) and take ciphertext only.
/// </summary>
internal static class NotificationStore
{
    const string ChannelColumns = """
        c.id, c.org_id, c.name, c.kind, c.target, c.smtp_host, c.smtp_port, c.smtp_tls, c.smtp_username, c.smtp_from, c.events,
        c.project_ids, c.min_severity, c.enabled, c.consecutive_failures, c.failing_since, c.last_delivery_at, c.last_success_at,
        c.last_error, c.created_at, c.updated_at,
        c.secret_set_at is not null as secret_set,
        (select count(*)::int from ops.notification_deliveries d where d.channel_id = c.id and d.status = 'pending') as pending_deliveries
        """;

    public static async Task<IReadOnlyList<NotificationChannel>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId) =>
        [.. await c.QueryAsync<NotificationChannel>($"select {ChannelColumns} from ops.notification_channels c where c.org_id = @orgId order by c.name",
            new { orgId }, t)];

    public static Task<NotificationChannel?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid channelId) =>
        c.QuerySingleOrDefaultAsync<NotificationChannel>($"select {ChannelColumns} from ops.notification_channels c where c.org_id = @orgId and c.id = @channelId",
            new { orgId, channelId }, t);

    const string DeliveryColumns = """
        d.id, d.channel_id, d.event_id, d.event, d.project_id, d.summary, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
        d.response_code, d.error, d.duration_ms, d.delivered_at, d.redelivered_at, d.created_at
        """;

    /// <summary>A channel's log, newest first; <paramref name="before"/> (a delivery's created_at) pages back.</summary>
    public static async Task<IReadOnlyList<NotificationDelivery>> DeliveriesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid channelId,
        string? status, DateTime? before, int limit) =>
        [.. await c.QueryAsync<NotificationDelivery>($"""
            select {DeliveryColumns} from ops.notification_deliveries d
             where d.org_id = @orgId and d.channel_id = @channelId and (@status::text is null or d.status = @status)
               and (@before::timestamptz is null or d.created_at < @before)
             order by d.created_at desc, d.id
             limit @limit
            """, new { orgId, channelId, status, before, limit }, t)];

    public static Task<NotificationDelivery?> DeliveryAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid deliveryId) =>
        c.QuerySingleOrDefaultAsync<NotificationDelivery>($"select {DeliveryColumns} from ops.notification_deliveries d where d.org_id = @orgId and d.id = @deliveryId",
            new { orgId, deliveryId }, t);

    /// <summary>The organisation's projects a channel may name (not archived), by name.</summary>
    public static async Task<IReadOnlyList<(Guid Id, string Name, string Slug)>> ProjectsAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId) =>
        [.. await c.QueryAsync<(Guid, string, string)>(
            "select id, name, slug from ops.projects where org_id = @orgId and archived_at is null order by name",
            new { orgId }, t)];

    /// <param name="emailDomains">OPS_NOTIFY_EMAIL_DOMAINS: whom an e-mail channel on the server's SMTP may mail besides members.</param>
    public static Task<Guid> SaveAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid? channelId, ChannelSpec s, string? ciphertext,
        string[] emailDomains) =>
        c.ExecuteScalarAsync<Guid>("""
            select ops.save_notification_channel(@orgId, @channelId, @Name, @Kind, @Target, @SmtpHost, @SmtpPort, @SmtpTls, @SmtpUsername,
                                                 @SmtpFrom, @Events, @ProjectIds, @MinSeverity, @Enabled, @ciphertext, @emailDomains)
            """, new { orgId, channelId, s.Name, s.Kind, s.Target, s.SmtpHost, s.SmtpPort, s.SmtpTls, s.SmtpUsername, s.SmtpFrom, s.Events,
                       s.ProjectIds, s.MinSeverity, s.Enabled, ciphertext, emailDomains }, t);

    public static Task<(string Name, string Kind)> DeleteAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid channelId) =>
        c.QuerySingleAsync<(string, string)>("select name, kind from ops.delete_notification_channel(@orgId, @channelId)", new { orgId, channelId }, t);

    public static Task<Guid> QueueTestAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid channelId, int limit) =>
        c.ExecuteScalarAsync<Guid>("select ops.queue_notification_test(@orgId, @channelId, @limit)", new { orgId, channelId, limit }, t);

    public static Task<Guid> RedeliverAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid deliveryId, int limit) =>
        c.ExecuteScalarAsync<Guid>("select ops.redeliver_notification(@orgId, @deliveryId, @limit)", new { orgId, deliveryId, limit }, t);
}
