using System.Net;
using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// Cancel and rebuild, shared by the API and the console. Both need the right to build the build's branch
/// (ops.can_build: developer or higher; a tester on staging and development branches), checked here to word the
/// refusal and again by the database (ops.cancel_build, RLS).
/// </summary>
public static class BuildActions
{
    public abstract record Outcome;
    /// <summary>A queued build is now cancelled; a running one has its cancel requested (the runner stops it).
    /// <paramref name="Changed"/> is false when a cancel was already requested.</summary>
    public sealed record Cancelled(Build Build, bool Changed) : Outcome;
    public sealed record AlreadyFinished(Build Build) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Reason) : Outcome;

    public static Task<Outcome> CancelAsync(OpsDatabase db, Guid userId, Guid buildId, IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<Outcome>(userId, async (c, t) =>
        {
            var before = await BuildStore.GetAsync(c, t, buildId);
            if (before is null) return new NotFound();
            if (await RefusalAsync(c, t, before, "Cancelling") is { } refused) return refused;
            if (before.IsFinished) return new AlreadyFinished(before);

            await c.ExecuteAsync("select 1 from ops.cancel_build(@buildId)", new { buildId }, t);
            var after = (await BuildStore.GetAsync(c, t, buildId))!;
            var changed = after.Status != before.Status || after.CancelRequestedAt != before.CancelRequestedAt;
            if (!changed && after.IsFinished) return new AlreadyFinished(after); // finished by its runner meanwhile
            if (changed)
            {
                var orgId = await c.ExecuteScalarAsync<Guid>("select org_id from ops.projects where id = @ProjectId", before, t);
                await AuditLog.WriteAsync(c, t, userId, new(orgId, before.ProjectId, "build.cancel", "build", buildId.ToString(),
                    new { before.Status }, new { after.Status, after.CancelRequestedAt }), ip);
            }
            return new Cancelled(after, changed);
        }, ct);

    /// <summary>A new build of the same branch and commit, trigger "rebuild" (with BuildTrigger's dedupe, role and queue rules).</summary>
    public static Task<BuildTrigger.Outcome> RebuildAsync(OpsDatabase db, BuildTrigger trigger, Guid userId, Guid buildId, IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<BuildTrigger.Outcome>(userId, async (c, t) =>
        {
            var source = await BuildStore.GetAsync(c, t, buildId);
            if (source is null) return new BuildTrigger.NotFound();
            return await trigger.TriggerAsync(c, t, userId, new(source.ProjectId, source.BranchId, null, source.CommitSha), "rebuild", ip);
        }, ct);

    /// <summary>May the user build this build's branch? The console asks to decide which buttons to offer.</summary>
    public static Task<bool> CanBuildAsync(NpgsqlConnection c, NpgsqlTransaction t, Build build) =>
        c.ExecuteScalarAsync<bool>("select ops.can_build(@ProjectId, @BranchId)", new { build.ProjectId, build.BranchId }, t);

    static async Task<Refused?> RefusalAsync(NpgsqlConnection c, NpgsqlTransaction t, Build build, string verb)
    {
        if (await CanBuildAsync(c, t, build)) return null;
        var role = await c.ExecuteScalarAsync<string?>("select ops.project_role(@ProjectId)", new { build.ProjectId }, t);
        var production = build.Stage == "production";
        var needed = production ? "developer" : "tester";
        return new Refused($"{verb} builds of {(production ? "the production branch" : "this branch")} needs the {needed} role or higher; you are {role ?? "no member"}.");
    }
}
