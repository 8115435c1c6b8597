using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Deployments;

/// <summary>
/// /api/ops/projects/{projectId}/deployments (the history), /api/ops/deployments/{id}[/rollback] and
/// /api/ops/projects/{projectId}/branches/{branchId}/deploy-plan (the dry run). Routes that name no project read the
/// deployment as the caller, so RLS decides and another tenant's is a 404; the rollback's rules are the database's
/// (ops.rollback_deployment), its audit row <see cref="DeploymentRollback"/>'s.
/// </summary>
internal static class DeploymentsApi
{
    public const int DefaultLimit = 50, MaxLimit = 500;

    public sealed record DeploymentList(IReadOnlyList<Deployment> Deployments);
    public sealed record RollbackRequest(Guid? BackupId);
    public sealed record RollbackStarted(Deployment Deployment, Guid RollbackOf, Guid? RestoreTaskId, string Message);

    public static RouteGroupBuilder MapDeploymentsApi(this RouteGroupBuilder api)
    {
        var project = api.MapGroup("/projects/{projectId:guid}").WithTags("Deployments").RequireAuthorization(AccessPolicies.Project(Role.Viewer));
        project.MapGet("/deployments", List).ProducesValidationProblem()
            .WithSummary("A project's deployments (optionally one branch's), newest first: outcome, release, who, when, switch time, and whether you may roll back to it");
        project.MapGet("/branches/{branchId:guid}/deploy-plan", PlanAsync)
            .WithSummary("Dry run: which modules a build of the branch's head would install or update, and why (new, version changed, requirements.txt changed); nothing runs");

        var one = api.MapGroup("/deployments/{deploymentId:guid}").WithTags("Deployments");
        one.MapGet("/", Get).WithSummary("One deployment");
        one.MapPost("/rollback", RollbackAsync).RequireAuthorization(AccessPolicies.Write)
            .Produces<RollbackStarted>(StatusCodes.Status202Accepted)
            .WithSummary("Roll the branch back to this deployment's release, still kept on its host (production: admin; development and staging: developer). The database is not rolled back unless backup_id names a succeeded backup of the branch to restore");
        return api;
    }

    static async Task<Results<Ok<DeploymentList>, ValidationProblem>> List(Guid projectId, string? branch_id, int? limit, ClaimsPrincipal user,
        OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        Guid? branchId = null;
        if (branch_id is not null)
        {
            if (Guid.TryParse(branch_id, out var id)) branchId = id;
            else v.Add("branch_id", "branch_id must be a branch's id.");
        }
        if (limit is < 1 or > MaxLimit) v.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var list = await db.AsUserAsync(user.UserId(), async (c, t) =>
            branchId is { } b && !await DeploymentStore.BranchExistsAsync(c, t, projectId, b)
                ? null
                : await DeploymentStore.ListAsync(c, t, projectId, branchId, limit ?? DefaultLimit), ct);
        return list is null
            ? TypedResults.ValidationProblem(new Validation().Add("branch_id", "No such branch in this project.").Errors)
            : TypedResults.Ok(new DeploymentList(list));
    }

    static async Task<Results<Ok<Deployment>, ProblemHttpResult>> Get(Guid deploymentId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => DeploymentStore.GetAsync(c, t, deploymentId), ct) is { } d
            ? TypedResults.Ok(d)
            : NotFound();

    static async Task<IResult> RollbackAsync(Guid deploymentId, RollbackRequest? body, ClaimsPrincipal user, OpsDatabase db, HttpContext http,
        CancellationToken ct)
    {
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => DeploymentRollback.ApplyAsync(c, t, actor, deploymentId, body?.BackupId), ct) switch
        {
            DeploymentRollback.Started s => TypedResults.Json(new RollbackStarted(s.Rollback, s.UndoneId, s.RestoreTaskId,
                (s.Rollback.Status == "live" ? $"{s.Rollback.Branch} runs build {s.Rollback.BuildId} again" : $"{s.Rollback.Branch} switches to build {s.Rollback.BuildId} once it answers")
                + (s.RestoreTaskId is null ? "; its database is not rolled back." : "; the chosen backup is being restored into its database.")),
                statusCode: StatusCodes.Status202Accepted),
            DeploymentRollback.Forbidden f => TypedResults.Problem(f.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
            DeploymentRollback.Conflict c => TypedResults.Problem(c.Message, statusCode: StatusCodes.Status409Conflict, title: "Cannot roll back"),
            DeploymentRollback.Invalid i => TypedResults.ValidationProblem(new Validation().Add(i.Field, i.Message).Errors),
            _ => NotFound(),
        };
    }

    static async Task<IResult> PlanAsync(Guid projectId, Guid branchId, ClaimsPrincipal user, DeployPlanner planner, HttpContext http,
        CancellationToken ct)
    {
        switch (await planner.PlanAsync(user.UserId(), projectId, branchId, ct))
        {
            case DeployPlanner.Planned p: return TypedResults.Ok(p.Plan);
            case DeployPlanner.Forbidden f: return TypedResults.Problem(f.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
            case DeployPlanner.Unplannable u: return TypedResults.Problem(u.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Cannot read the branch");
            case DeployPlanner.Unavailable u:
                http.Response.Headers.RetryAfter = "10";
                return TypedResults.Problem(u.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Repository unavailable");
            default: return TypedResults.Problem("No such branch in this project.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
    }

    static ProblemHttpResult NotFound() =>
        TypedResults.Problem("No such deployment, or it is not yours to see.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
}
