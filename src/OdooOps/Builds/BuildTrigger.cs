using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Branches;
using OdooOps.Server;

namespace OdooOps.Builds;

/// <summary>
/// Queues a build, shared by the seed's function endpoint, the REST API and the console. One transaction: the build
/// row and (through the database trigger) its run_queue row. The same branch and commit already queued or running
/// is answered with that build instead of a second one; a project with too many queued builds is refused.
/// </summary>
public sealed class BuildTrigger(IConfiguration config)
{
    public const string MaxQueuedKey = "OPS_MAX_QUEUED_BUILDS_PER_PROJECT";
    /// <summary>The per-project cap on queued builds (the git webhooks apply it too).</summary>
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

    public async Task<Outcome> TriggerAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid userId, Request r, string trigger, System.Net.IPAddress? ip)
    {
        var v = Validate(r);
        if (!v.IsValid) return new Invalid(v);
        var projectId = r.ProjectId!.Value;
        var role = await c.ExecuteScalarAsync<string?>("select ops.project_role(@projectId)", new { projectId }, t);
        if (role is null) return new NotFound();
        var branch = r.BranchId is { } id ? await BranchStore.GetAsync(c, t, projectId, id) : await BranchStore.GetByNameAsync(c, t, projectId, r.Branch!);
        if (branch is null || branch.ArchivedAt is not null)
            return new Invalid(new Validation().Add(r.BranchId is null ? "branch" : "branch_id", "No such branch in this project."));
        var needed = branch.IsProduction ? "developer" : "tester";
        if (AccessPolicies.Rank(role) < AccessPolicies.Rank(needed))
            return new Refused($"Building {(branch.IsProduction ? "the production branch" : "this branch")} needs the {needed} role or higher; you are {role}.");

        // Serialises triggers of one branch so that two identical requests cannot both queue a build.
        await c.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended(@id::text, 7))", new { id = branch.Id }, t);
        var existing = await c.ExecuteScalarAsync<Guid?>("""
            select id from ops.builds
             where branch_id = @BranchId and status in ('queued', 'running') and commit_sha is not distinct from @CommitSha
             order by created_at desc limit 1
            """, new { BranchId = branch.Id, r.CommitSha }, t);
        if (existing is { } found) return new AlreadyQueued((await BuildStore.GetAsync(c, t, found))!);
        var queued = await c.ExecuteScalarAsync<int>("select count(*) from ops.builds where project_id = @projectId and status = 'queued'", new { projectId }, t);
        if (queued >= MaxQueued) return new TooMany(queued);

        var buildId = await c.ExecuteScalarAsync<Guid>("select id from ops.trigger_build(@projectId, @BranchId, @trigger, @CommitSha)",
            new { projectId, BranchId = branch.Id, trigger, r.CommitSha }, t);
        var build = (await BuildStore.GetAsync(c, t, buildId))!;
        var orgId = await c.ExecuteScalarAsync<Guid>("select org_id from ops.projects where id = @projectId", new { projectId }, t);
        await AuditLog.WriteAsync(c, t, userId, new(orgId, projectId, "build.trigger", "build", buildId.ToString(),
            After: new { build.Branch, build.CommitSha, build.Trigger }), ip);
        return new Queued(build);
    }
}
