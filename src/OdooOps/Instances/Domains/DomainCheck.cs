using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Instances.Domains;

/// <summary>
/// Checks that a branch's domain points at this server (<see cref="DomainChecker"/>) and records what was found, for
/// POST …/domains/{id}/check and the console (the CLI through the API): verified or not, with the reason
/// ("resolves to 203.0.113.9, not this server (192.0.2.2)", "does not resolve"); one <c>domain.check</c> audit row.
/// The role is asked before the look-up (a refusal costs no DNS query) and again by the recording function.
/// </summary>
internal static class DomainCheck
{
    public static async Task<DomainOutcome> CheckAsync(OpsDatabase db, DomainChecker checker, Actor actor, Guid projectId, Guid branchId, Guid domainId,
        CancellationToken ct)
    {
        InstanceDomain? domain = null;
        var first = await DomainOutcome.AsUserAsync(db, actor.UserId, null, async (c, t) =>
        {
            domain = await DomainStore.GetAsync(c, t, projectId, domainId);
            if (domain is null || domain.BranchId != branchId) return new DomainOutcome.NotFound();
            return await DomainStore.RefusalAsync(c, t, projectId, branchId) is { } refusal
                ? new DomainOutcome.Refused(refusal)
                : new DomainOutcome.Done(domain);
        }, ct);
        if (first is not DomainOutcome.Done) return first;

        // Outside any transaction: a look-up may take seconds.
        var result = await checker.CheckAsync(domain!.Name, ct);
        return await DomainOutcome.AsUserAsync(db, actor.UserId, null, async (c, t) =>
        {
            var after = await DomainStore.RecordCheckAsync(c, t, projectId, domainId, result.Verified, result.Error);
            await AuditLog.WriteAsync(c, t, actor, new(await DomainStore.OrgOfAsync(c, t, projectId), projectId, "domain.check", "instance_domain",
                domainId.ToString(), new { domain.Verified }, new { after.Name, after.Verified, after.CheckError }));
            return new DomainOutcome.Done(after);
        }, ct);
    }
}
