using Dapper;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Runners.Dispatch;

/// <summary>
/// The <c>runner_rescue</c> job (every 30 s): builds whose runner stopped renewing its lease are re-queued (up to
/// their last attempt), failed with "runner lost", or — when a cancel was pending — cancelled. See
/// ops.rescue_build_leases. Runner tasks (backups, verifications, restores) the same way: ops.rescue_task_leases.
/// Instances of runners not heard from for the instance lease are then shown as unknown (ops.mark_lost_instances).
/// </summary>
internal static class LeaseRescueJob
{
    public static readonly ScheduledJob Job = new("runner_rescue", "*/30 * * * * *", async (services, ct) =>
    {
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        var r = await conn.QuerySingleAsync<(int Requeued, int Failed, int Cancelled)>(
            new CommandDefinition("select requeued, failed, cancelled from ops.rescue_build_leases()", cancellationToken: ct));
        var t = await conn.QuerySingleAsync<(int Requeued, int Failed, int Cancelled)>(
            new CommandDefinition("select requeued, failed, cancelled from ops.rescue_task_leases()", cancellationToken: ct));
        var lost = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.mark_lost_instances(make_interval(secs => @seconds))",
            new { seconds = Protocol.RunnerProtocol.InstanceLeaseSeconds }, cancellationToken: ct));
        return $"{r.Requeued} re-queued, {r.Failed} failed (runner lost), {r.Cancelled} cancelled; " +
               $"tasks: {t.Requeued} re-queued, {t.Failed} failed, {t.Cancelled} cancelled; {lost} instance(s) unknown";
    });
}
