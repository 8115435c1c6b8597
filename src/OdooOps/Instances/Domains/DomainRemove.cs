using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Instances.Domains;

/// <summary>
/// Removes a branch's custom domain, for DELETE …/domains/{id} and the console (the CLI through the API): the proxy
/// stops routing the name at once; who may is ops.remove_instance_domain's to say; one <c>domain.remove</c> audit row.
/// </summary>
internal static class DomainRemove
{
    public static Task<DomainOutcome> RemoveAsync(OpsDatabase db, Actor actor, Guid projectId, Guid branchId, Guid domainId, CancellationToken ct) =>
        DomainOutcome.AsUserAsync(db, actor.UserId, null, async (c, t) =>
        {
            if (await DomainStore.GetAsync(c, t, projectId, domainId) is not { } domain || domain.BranchId != branchId)
                return new DomainOutcome.NotFound();
            var removed = await DomainStore.RemoveAsync(c, t, projectId, domainId);
            await AuditLog.WriteAsync(c, t, actor, new(await DomainStore.OrgOfAsync(c, t, projectId), projectId, "domain.remove", "instance_domain",
                domainId.ToString(), Before: new { removed.Name, removed.BranchId, removed.Verified }));
            return new DomainOutcome.Done(removed);
        }, ct);
}
