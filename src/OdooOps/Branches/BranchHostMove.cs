using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;

namespace OdooOps.Branches;

/// <summary>
/// Moving a production or staging branch to another runner host, for POST /api/ops/projects/{id}/branches/{id}/host,
/// the console's branch instance page and `odooops branches move-host`: ops.set_branch_runner decides who may (org owners
/// and admins) and which runner can (ops_private.runner_host_refusal); this adds the <c>branch.host</c> audit row. Only
/// the pin moves: the next deploy builds on the new host, while the running instance, its filestore and its database
/// stay where they are until they are moved with a backup and restore.
/// </summary>
internal static class BranchHostMove
{
    public const string RunnerField = "runner_id";

    public sealed record Host(Guid? RunnerId, string? RunnerName);

    /// <summary>A runner as the branch's host card and GET …/host show it; <see cref="Refusal"/> null: it can host the branch.</summary>
    public sealed record Candidate(Guid RunnerId, string Name, bool Shared, int InstancesPlaced, int InstanceCapacity, string? Refusal);

    public abstract record Outcome;
    public sealed record Moved(Host Before, Host After, bool Changed) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Forbidden(string Message) : Outcome;
    public sealed record Conflict(string Message) : Outcome;
    public sealed record Invalid(string Message) : Outcome;

    /// <summary>What the answer and the page say of a move: the instance stays until a backup and restore moves it.</summary>
    public static string Consequence(string branch, string runner) =>
        $"The next deploy of {branch} builds on {runner}; the current instance is not moved: its filestore and database must be moved with a backup and restore.";

    public static async Task<IReadOnlyList<Candidate>> CandidatesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId) =>
        [.. await c.QueryAsync<Candidate>("""
            select runner_id, name, shared, instances_placed, instance_capacity, refusal from ops.branch_host_runners(@projectId, @branchId)
            """, new { projectId, branchId }, t)];

    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid branchId, Guid runnerId)
    {
        await t.SaveAsync("host_move");
        Guid? previous;
        try
        {
            previous = await c.ExecuteScalarAsync<Guid?>("select ops.set_branch_runner(@projectId, @branchId, @runnerId)",
                new { projectId, branchId, runnerId }, t);
        }
        catch (PostgresException e) when (e.SqlState is "P0002" or "42501" or "55000" or "22023")
        {
            await t.RollbackAsync("host_move");
            return e.SqlState switch
            {
                "P0002" => new NotFound(),
                "42501" => new Forbidden(e.MessageText),
                "55000" => new Conflict(e.MessageText),
                _ => new Invalid(e.MessageText),
            };
        }
        var before = new Host(previous, await NameAsync(c, t, previous));
        var after = new Host(runnerId, await NameAsync(c, t, runnerId));
        if (previous == runnerId) return new Moved(before, after, false); // a repeated request: nothing to do, nothing to audit
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "branch.host", "branch", branchId.ToString(), before, after));
        return new Moved(before, after, true);
    }

    // The caller sees the runner (it was just accepted) or saw it as the branch's host; a runner since gone reads null.
    static async Task<string?> NameAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid? runnerId) =>
        runnerId is null ? null : await c.ExecuteScalarAsync<string?>("select name from ops.runners where id = @runnerId", new { runnerId }, t);
}
