using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;

namespace OdooOps.Branches;

/// <summary>
/// Moving a branch to another stage, for POST /api/ops/projects/{id}/branches/{id}/stage and the console's branches
/// page (the CLI goes through the API): ops.set_branch_stage decides who may (ops.stage_move_role) and demotes the old
/// production branch when another is promoted; this adds the <c>branch.stage</c> audit row, naming the branch replaced.
/// </summary>
internal static class BranchStageMove
{
    public abstract record Outcome;
    /// <param name="Replaced">The branch that was production before, when this move promoted another.</param>
    public sealed record Moved(Branch Branch, string? Replaced) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Message) : Outcome;

    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid branchId, string stage)
    {
        var before = await BranchStore.GetAsync(c, t, projectId, branchId);
        if (before is null || before.ArchivedAt is not null) return new NotFound();
        if (before.Stage == stage) return new Moved(before, null); // a repeated request: nothing to do, nothing to audit
        var replaced = stage == "production" ? (await BranchStore.ListAsync(c, t, projectId)).FirstOrDefault(b => b.IsProduction)?.Name : null;
        Branch after;
        await t.SaveAsync("stage_move");
        try
        {
            after = await BranchStore.SetStageAsync(c, t, branchId, stage);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            await t.RollbackAsync("stage_move");
            return new Refused(e.MessageText);
        }
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "branch.stage", "branch", branchId.ToString(),
            new { before.Stage }, new { after.Stage, replaced_branch = replaced }));
        return new Moved(after, replaced);
    }
}
