using System.Net;
using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Runners.Admin;

/// <summary>
/// Whether a runner host serves Odoo instances and how many at most, set the same way by PUT
/// /api/ops/orgs/{orgId}/runners/{runnerId}/instance-hosting, the Runners page and `odooops runners hosting`: one
/// transaction with its <c>runner.instance_hosting</c> audit row (only a change is audited). Who may is
/// ops.set_runner_instance_hosting's (org owners and admins; system administrators for shared runners), as for disabling.
/// Instances already there stay; the flag and the capacity govern new placements.
/// </summary>
internal static class RunnerInstanceHosting
{
    public const string ServesField = "serves_instances";
    public const string CapacityField = "instance_capacity";
    public const int MaxCapacity = 1000;

    public static Validation Validate(bool? serves, int? capacity)
    {
        var v = new Validation();
        if (serves is null && capacity is null) v.Add(ServesField, $"Give {ServesField}, {CapacityField} or both.");
        if (capacity is < 0 or > MaxCapacity) v.Add(CapacityField, $"{CapacityField} must be between 0 and {MaxCapacity}.");
        return v;
    }

    /// <summary>Runner null: none the caller can see in this org (or shared). A role refusal is a PostgresException 42501.</summary>
    public static Task<(RunnerInfo? Runner, bool Changed)> SetAsync(OpsDatabase db, Guid userId, Guid orgId, Guid runnerId, bool? serves,
        int? capacity, IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<(RunnerInfo?, bool)>(userId, async (c, t) =>
        {
            if (await RunnerAdminStore.GetAsync(c, t, orgId, runnerId) is not { } before) return (null, false);
            await RunnerAdminStore.SetInstanceHostingAsync(c, t, runnerId, serves, capacity); // checks the role every time
            var after = (await RunnerAdminStore.GetAsync(c, t, orgId, runnerId))!;
            if ((before.ServesInstances, before.InstanceCapacity) == (after.ServesInstances, after.InstanceCapacity)) return (after, false);
            await AuditLog.WriteAsync(c, t, Actor.User(userId, ip), new(orgId, null, "runner.instance_hosting", "runner", runnerId.ToString(),
                new { before.Name, before.ServesInstances, before.InstanceCapacity }, new { after.Name, after.ServesInstances, after.InstanceCapacity }));
            return (after, true);
        }, ct);
}
