using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;

namespace OdooOps.Branches.Pages;

/// <summary>
/// Which stage moves the console offers to a role, and the move itself with its audit row (as BranchesApi.Move).
/// The database enforces the same rule (ops.set_branch_stage); checking here too turns a refusal into a message.
/// </summary>
public static class BranchStageMoves
{
    /// <summary>
    /// developer: development ↔ staging; admin and owner also promote to production; tester and viewer: nothing.
    /// The production branch itself is never moved down from here: it is replaced by promoting another branch,
    /// so the console cannot leave a project without production by accident.
    /// </summary>
    public static IReadOnlyList<string> Targets(string? role, string stage)
    {
        if (stage == "production" || AccessPolicies.Rank(role) < AccessPolicies.Rank("developer")) return [];
        var sideways = stage == "staging" ? "development" : "staging";
        return AccessPolicies.Rank(role) >= AccessPolicies.Rank("admin") ? [sideways, "production"] : [sideways];
    }

    public abstract record Outcome;
    public sealed record Moved(string Name, string Stage, string? Replaced) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Message) : Outcome;

    public static Task<Outcome> MoveAsync(OpsDatabase db, Guid userId, Guid projectId, Guid branchId, string stage, System.Net.IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<Outcome>(userId, async (c, t) =>
        {
            var before = await BranchStore.GetAsync(c, t, projectId, branchId);
            if (before is null || before.ArchivedAt is not null) return new NotFound();
            if (before.Stage == stage) return new Moved(before.Name, stage, null); // a repeated click: nothing to do, nothing to audit
            var role = await RoleAsync(c, t, projectId);
            if (!Targets(role, before.Stage).Contains(stage))
                return new Refused($"Your role ({role ?? "none"}) does not allow moving {before.Name} from {before.Stage} to {stage}.");
            var project = (await ProjectStore.GetAsync(c, t, projectId))!;
            var replaced = stage == "production"
                ? (await BranchStore.ListAsync(c, t, projectId)).FirstOrDefault(b => b.IsProduction)
                : null;
            var after = await BranchStore.SetStageAsync(c, t, branchId, stage);
            await AuditLog.WriteAsync(c, t, userId, new(project.OrgId, projectId, "branch.stage", "branch", branchId.ToString(),
                new { before.Stage }, new { after.Stage, replaced_branch = replaced?.Name }), ip);
            return new Moved(after.Name, after.Stage, replaced?.Name);
        }, ct);

    /// <summary>Role of the signed-in user on a project (org role or project membership, whichever is higher).</summary>
    public static Task<string?> RoleAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) => ProjectStore.RoleAsync(c, t, projectId);
}
