using Dapper;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Notifications;

/// <summary>
/// The <c>notification_retention</c> job (daily): forgets notification events older than OPS_NOTIFY_RETENTION_DAYS
/// (30) with their deliveries, so the outbox and the delivery log stay small; one still waiting to be sent stays.
/// </summary>
internal static class NotificationRetentionJob
{
    public static readonly ScheduledJob Job = new("notification_retention", "40 3 * * *", async (services, ct) =>
    {
        var days = NotificationSettings.RetentionDaysOf(services.GetRequiredService<IConfiguration>());
        var before = services.GetRequiredService<TimeProvider>().GetUtcNow() - TimeSpan.FromDays(days);
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        var gone = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.prune_notifications(@before)", new { before }, cancellationToken: ct));
        return $"{gone} notification event(s) written before {before:yyyy-MM-dd HH:mm} forgotten with their deliveries";
    })
    {
        CheckSettings = config => NotificationSettings.From(config),
    };
}
