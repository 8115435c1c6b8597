using Dapper;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Webhooks;

/// <summary>
/// The <c>webhook_deliveries</c> job (hourly): forgets the git deliveries received more than 24 hours ago, the window in
/// which the same delivery is answered as a duplicate instead of applied (ops.webhook_push). Each push also forgets its
/// own project's; this one covers projects that stopped receiving hooks.
/// </summary>
internal static class WebhookDeliveryJob
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public static readonly ScheduledJob Job = new("webhook_deliveries", "20 * * * *", async (services, ct) =>
    {
        var before = services.GetRequiredService<TimeProvider>().GetUtcNow() - Window;
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        var gone = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.prune_webhook_deliveries(@before)",
            new { before }, cancellationToken: ct));
        return $"{gone} delivery id(s) received before {before:yyyy-MM-dd HH:mm} forgotten";
    });
}
