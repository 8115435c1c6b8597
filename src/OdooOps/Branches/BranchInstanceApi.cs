using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Branches;

/// <summary>
/// /api/ops/projects/{projectId}/branches/{branchId}/instance-settings and …/host: the size of the branch's Odoo server
/// (developers on development and staging, admins on production; applied at the next start or restart) and the runner
/// host a production or staging branch is pinned to (org owners and admins; the instance itself does not move).
/// </summary>
internal static class BranchInstanceApi
{
    /// <summary>The body of a change: a setting left out (null) stays as it is.</summary>
    public sealed record InstanceSettingsChange(int? Workers, int? CronThreads, int? MemoryMb, decimal? Cpus);

    public sealed record HostView(Guid? RunnerId, string? RunnerName, IReadOnlyList<BranchHostMove.Candidate> Runners);
    public sealed record MoveHost(Guid? RunnerId);
    public sealed record HostMoved(Guid BranchId, string Branch, Guid? RunnerId, string? RunnerName, Guid? PreviousRunnerId,
        string? PreviousRunnerName, bool Changed, string Message);

    public static RouteGroupBuilder MapBranchInstanceApi(this RouteGroupBuilder api)
    {
        var branch = api.MapGroup("/projects/{projectId:guid}/branches/{branchId:guid}").WithTags("Branches");
        branch.MapGet("/instance-settings", GetSettings).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("The branch's instance size (workers, cron threads, memory, CPUs) and the host it is pinned to");
        branch.MapPut("/instance-settings", PutSettings).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Set workers (0–64), cron_threads (0–16), memory_mb (128–262144), cpus (0.1–256); applied at the next start or restart (production: admin)");
        branch.MapGet("/host", GetHost).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("The runner the branch is pinned to, and each runner it could move to (or why not)");
        branch.MapPost("/host", PostHost).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
            .WithSummary("Pin a production or staging branch to another runner (org owner/admin): its next deploy builds there; the instance is not moved");
        return api;
    }

    static async Task<Results<Ok<BranchInstanceSettings.Settings>, NotFound>> GetSettings(Guid projectId, Guid branchId, ClaimsPrincipal user,
        OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => BranchInstanceSettings.GetAsync(c, t, projectId, branchId), ct) is { } settings
            ? TypedResults.Ok(settings)
            : TypedResults.NotFound();

    static async Task<Results<Ok<BranchInstanceSettings.Settings>, ValidationProblem, NotFound, ProblemHttpResult>> PutSettings(Guid projectId,
        Guid branchId, InstanceSettingsChange body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var change = new BranchInstanceSettings.Change(body.Workers, body.CronThreads, body.MemoryMb, body.Cpus);
        if (BranchInstanceSettings.Validate(change) is { IsValid: false } v) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => BranchInstanceSettings.SetAsync(c, t, actor, projectId, branchId, change), ct) switch
        {
            BranchInstanceSettings.Saved saved => TypedResults.Ok(saved.Settings),
            BranchInstanceSettings.Refused refused => TypedResults.Problem(refused.Message, statusCode: 403, title: "Forbidden"),
            _ => TypedResults.NotFound(),
        };
    }

    static async Task<Results<Ok<HostView>, NotFound>> GetHost(Guid projectId, Guid branchId, ClaimsPrincipal user, OpsDatabase db,
        CancellationToken ct) =>
        await db.AsUserAsync<HostView?>(user.UserId(), async (c, t) =>
            await BranchInstanceSettings.GetAsync(c, t, projectId, branchId) is { } s
                ? new HostView(s.RunnerId, s.RunnerName, await BranchHostMove.CandidatesAsync(c, t, projectId, branchId))
                : null, ct) is { } view
            ? TypedResults.Ok(view)
            : TypedResults.NotFound();

    static async Task<Results<Ok<HostMoved>, ValidationProblem, NotFound, ProblemHttpResult>> PostHost(Guid projectId, Guid branchId,
        MoveHost body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (body.RunnerId is not { } runnerId)
            return TypedResults.ValidationProblem(new Validation().Add(BranchHostMove.RunnerField, "runner_id (a runner's id) is required.").Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<Ok<HostMoved>, ValidationProblem, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
        {
            var outcome = await BranchHostMove.ApplyAsync(c, t, actor, projectId, branchId, runnerId);
            if (outcome is not BranchHostMove.Moved moved)
                return outcome switch
                {
                    BranchHostMove.Invalid invalid => TypedResults.ValidationProblem(new Validation().Add(BranchHostMove.RunnerField, invalid.Message).Errors),
                    BranchHostMove.Forbidden forbidden => TypedResults.Problem(forbidden.Message, statusCode: 403, title: "Forbidden"),
                    BranchHostMove.Conflict conflict => TypedResults.Problem(conflict.Message, statusCode: 409, title: "Conflict"),
                    _ => TypedResults.NotFound(),
                };
            var name = (await BranchInstanceSettings.GetAsync(c, t, projectId, branchId))!.Branch;
            return TypedResults.Ok(new HostMoved(branchId, name, moved.After.RunnerId, moved.After.RunnerName, moved.Before.RunnerId,
                moved.Before.RunnerName, moved.Changed, BranchHostMove.Consequence(name, moved.After.RunnerName ?? runnerId.ToString())));
        }, ct);
    }
}
