using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Instances.Proxy;

namespace OdooOps.Instances.Domains;

/// <summary>
/// Adds a custom domain to a branch, for POST …/branches/{id}/domains and the console's Domains page (the CLI through
/// the API): the name's rules here (<see cref="DomainRules"/>), who may and the unique name in ops.add_instance_domain,
/// and the <c>domain.add</c> audit row. A new domain is not routed until a check verified it.
/// </summary>
internal static class DomainAdd
{
    public static Task<DomainOutcome> AddAsync(OpsDatabase db, InstanceProxySettings proxy, Actor actor, Guid projectId, Guid branchId,
        string? rawName, CancellationToken ct)
    {
        var name = DomainRules.Normalize(rawName);
        var v = DomainRules.Validate(name, proxy);
        if (!v.IsValid) return Task.FromResult<DomainOutcome>(new DomainOutcome.Invalid(v.Errors));
        return DomainOutcome.AsUserAsync(db, actor.UserId, name, async (c, t) =>
        {
            var added = await DomainStore.AddAsync(c, t, projectId, branchId, name);
            await AuditLog.WriteAsync(c, t, actor, new(await DomainStore.OrgOfAsync(c, t, projectId), projectId, "domain.add", "instance_domain",
                added.Id.ToString(), After: new { added.Name, added.BranchId }));
            return new DomainOutcome.Done(added);
        }, ct);
    }
}
