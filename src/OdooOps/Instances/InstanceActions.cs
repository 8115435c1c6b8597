using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Instances;

/// <summary>
/// Start, stop and restart of an instance, for the API, the console and (through the API) the CLI. The rules, the
/// change and its <c>instance.start|stop|restart</c> audit row are ops.request_instance_action's, in the caller's
/// transaction; the runner carries the request out at its next sync, so the answer is the instance as asked for
/// (desired), its state still what the runner last reported.
/// </summary>
internal static class InstanceActions
{
    public abstract record Outcome;
    /// <param name="Changed">False when nothing was to change (stop of an instance already asked to stop).</param>
    public sealed record Requested(Instance Instance, bool Changed) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Reason) : Outcome;
    /// <summary>Retired: stopped for good, nothing to start, stop or restart.</summary>
    public sealed record Retired(string Reason) : Outcome;

    public static Task<Outcome> RequestAsync(OpsDatabase db, Actor actor, Guid instanceId, string action, CancellationToken ct) =>
        db.AsUserAsync<Outcome>(actor.UserId, async (c, t) =>
        {
            var before = await InstanceStore.GetAsync(c, t, instanceId);
            if (before is null) return new NotFound();
            await t.SaveAsync("instance_action");
            try
            {
                await c.ExecuteAsync("select 1 from ops.request_instance_action(@instanceId, @action, @ip::inet)",
                    new { instanceId, action, ip = actor.Ip?.ToString() }, t);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectNotInPrerequisiteState or "P0002")
            {
                await t.RollbackAsync("instance_action");
                return e.SqlState switch
                {
                    PostgresErrorCodes.InsufficientPrivilege => new Refused(e.MessageText),
                    PostgresErrorCodes.ObjectNotInPrerequisiteState => new Retired(e.MessageText),
                    _ => new NotFound(),
                };
            }
            var after = (await InstanceStore.GetAsync(c, t, instanceId))!;
            return new Requested(after, after.Desired != before.Desired || after.RestartGeneration != before.RestartGeneration);
        }, ct);
}
