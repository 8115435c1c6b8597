using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Branches;
using OdooOps.Server;

namespace OdooOps.Builds;

/// <summary>
/// Queues a build for the seed's function endpoint, the REST API, the console and rebuilds. The rules (who may build,
/// the same branch and commit already queued or running, the project's queue cap) and the audit row belong to
/// ops.trigger_build, which git pushes go through too; this finds the branch the request names, passes the cap from
/// configuration and turns the database's answer into an outcome.
/// </summary>
internal sealed class BuildTrigger(IConfiguration config)
{
    public const string MaxQueuedKey = "OPS_MAX_QUEUED_BUILDS_PER_PROJECT";
    /// <summary>The per-project cap on queued builds (the git webhooks pass it too).</summary>
    public int MaxQueued => config.GetValue(MaxQueuedKey, 20);

    public sealed record Request(Guid? ProjectId, Guid? BranchId, string? Branch, string? CommitSha);
    public abstract record Outcome;
    public sealed record Queued(Build Build) : Outcome;
    public sealed record AlreadyQueued(Build Build) : Outcome;
    public sealed record Invalid(Validation Errors) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Reason) : Outcome;
    public sealed record TooMany(int Queued) : Outcome;

    public static Validation Validate(Request r)
    {
        var v = new Validation();
        if (r.ProjectId is null) v.Add("project_id", "project_id is required.");
        if (r.BranchId is null && string.IsNullOrWhiteSpace(r.Branch)) v.Add("branch_id", "branch_id (or branch, its name) is required.");
        if (r.CommitSha is not null && !System.Text.RegularExpressions.Regex.IsMatch(r.CommitSha, "^[0-9a-f]{4,64}$"))
            v.Add("commit_sha", "commit_sha must be 4 to 64 lower-case hex characters.");
        return v;
    }

    sealed record Answer(string Outcome, Guid? BuildId, int? QueuedBuilds);

    /// <param name="trigger">api, manual or rebuild: what the build says started it.</param>
    public async Task<Outcome> TriggerAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Request r, string trigger)
    {
        var v = Validate(r);
        if (!v.IsValid) return new Invalid(v);
        var projectId = r.ProjectId!.Value;
        var branchField = r.BranchId is null ? "branch" : "branch_id";
        var branchId = r.BranchId ?? (await BranchStore.GetByNameAsync(c, t, projectId, r.Branch!))?.Id;
        if (branchId is null) return await NoBranchAsync(c, t, projectId, branchField);

        await t.SaveAsync("trigger_build");
        Answer answer;
        try
        {
            answer = await c.QuerySingleAsync<Answer>("""
                select outcome, build_id, queued_builds
                  from ops.trigger_build(@projectId, @branchId, @trigger, @CommitSha, @MaxQueued, p_ip => @ip::inet)
                """, new { projectId, branchId, trigger, r.CommitSha, MaxQueued, ip = actor.Ip?.ToString() }, t);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.NoDataFound or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            await t.RollbackAsync("trigger_build");
            return e.SqlState == PostgresErrorCodes.InsufficientPrivilege ? new Refused(e.MessageText) : await NoBranchAsync(c, t, projectId, branchField);
        }
        return answer.Outcome switch
        {
            "queued" => new Queued((await BuildStore.GetAsync(c, t, answer.BuildId!.Value))!),
            "existing" => new AlreadyQueued((await BuildStore.GetAsync(c, t, answer.BuildId!.Value))!),
            _ => new TooMany(answer.QueuedBuilds ?? MaxQueued),
        };
    }

    /// <summary>A project the caller cannot see is not found; a branch it lacks (or has archived) is a field error.</summary>
    static async Task<Outcome> NoBranchAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string field) =>
        await c.ExecuteScalarAsync<string?>("select ops.project_role(@projectId)", new { projectId }, t) is null
            ? new NotFound()
            : new Invalid(new Validation().Add(field, "No such branch in this project."));
}
