using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// Cancel and rebuild, shared by the API and the console. Both need the right to build the build's branch
/// (ops.can_build), asked first so that a refusal comes in its words (ops.build_refusal); the database holds to it
/// again (ops.cancel_build, ops.trigger_build, RLS).
/// </summary>
internal static class BuildActions
{
    public abstract record Outcome;
    /// <summary>A queued build is now cancelled; a running one has its cancel requested (the runner stops it).
    /// <paramref name="Changed"/> is false when a cancel was already requested.</summary>
    public sealed record Cancelled(Build Build, bool Changed) : Outcome;
    public sealed record AlreadyFinished(Build Build) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Reason) : Outcome;

    public static Task<Outcome> CancelAsync(OpsDatabase db, Actor actor, Guid buildId, CancellationToken ct) =>
        db.AsUserAsync<Outcome>(actor.UserId, async (c, t) =>
        {
            var before = await BuildStore.GetAsync(c, t, buildId);
            if (before is null) return new NotFound();
            if (await RefusalAsync(c, t, before) is { } refused) return new Refused(refused);
            if (before.IsFinished) return new AlreadyFinished(before);

            await c.ExecuteAsync("select 1 from ops.cancel_build(@buildId)", new { buildId }, t);
            var after = (await BuildStore.GetAsync(c, t, buildId))!;
            var changed = after.Status != before.Status || after.CancelRequestedAt != before.CancelRequestedAt;
            if (!changed && after.IsFinished) return new AlreadyFinished(after); // finished by its runner meanwhile
            if (changed)
            {
                var orgId = await c.ExecuteScalarAsync<Guid>("select org_id from ops.projects where id = @ProjectId", before, t);
                await AuditLog.WriteAsync(c, t, actor, new(orgId, before.ProjectId, "build.cancel", "build", buildId.ToString(),
                    new { before.Status }, new { after.Status, after.CancelRequestedAt }));
            }
            return new Cancelled(after, changed);
        }, ct);

    /// <summary>A new build of the same branch and commit, trigger "rebuild" (with BuildTrigger's dedupe, role and queue rules).</summary>
    public static Task<BuildTrigger.Outcome> RebuildAsync(OpsDatabase db, BuildTrigger trigger, Actor actor, Guid buildId, CancellationToken ct) =>
        db.AsUserAsync<BuildTrigger.Outcome>(actor.UserId, async (c, t) =>
        {
            var source = await BuildStore.GetAsync(c, t, buildId);
            if (source is null) return new BuildTrigger.NotFound();
            return await trigger.TriggerAsync(c, t, actor, new(source.ProjectId, source.BranchId, null, source.CommitSha), "rebuild");
        }, ct);

    /// <summary>May the user build this build's branch? The console asks to decide which buttons to offer.</summary>
    public static Task<bool> CanBuildAsync(NpgsqlConnection c, NpgsqlTransaction t, Build build) =>
        c.ExecuteScalarAsync<bool>("select ops.can_build(@ProjectId, @BranchId)", new { build.ProjectId, build.BranchId }, t);

    /// <summary>Why the user may not cancel this build's builds, in the database's words; null when they may.</summary>
    static Task<string?> RefusalAsync(NpgsqlConnection c, NpgsqlTransaction t, Build build) =>
        c.ExecuteScalarAsync<string?>("select ops.build_refusal(@ProjectId, @BranchId, 'cancel')", new { build.ProjectId, build.BranchId }, t);
}
