using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Branches;

/// <summary>/api/ops/projects/{projectId}/branches — list, create, move stage, archive.</summary>
internal static class BranchesApi
{
    public sealed record BranchList(IReadOnlyList<BranchSummary> Branches);
    public sealed record CreateBranch(string? Name, string? Stage);
    public sealed record MoveBranch(string? Stage);

    public static RouteGroupBuilder MapBranchesApi(this RouteGroupBuilder api)
    {
        var branches = api.MapGroup("/projects/{projectId:guid}/branches").WithTags("Branches");
        branches.MapGet("/", List).RequireAuthorization(AccessPolicies.Project(Role.Viewer));
        branches.MapPost("/", Create).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Create a branch (developer; a production branch needs admin)");
        branches.MapPost("/{branchId:guid}/stage", Move).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Move a branch to another stage; to production demotes the current production branch to staging (admin)");
        branches.MapDelete("/{branchId:guid}", Archive).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Archive a branch (not the production branch)");
        return api;
    }

    static async Task<Ok<BranchList>> List(Guid projectId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new BranchList(await db.AsUserAsync(user.UserId(), (c, t) => BranchStore.ListAsync(c, t, projectId), ct)));

    static async Task<Results<Created<Branch>, ValidationProblem, ProblemHttpResult>> Create(
        Guid projectId, CreateBranch body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation().BranchName("name", body.Name).OneOf("stage", body.Stage, BranchStore.Stages);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var userId = user.UserId();
        return await db.AsUserAsync<Results<Created<Branch>, ValidationProblem, ProblemHttpResult>>(userId, async (c, t) =>
        {
            var project = (await ProjectStore.GetAsync(c, t, projectId))!;
            if (await BranchStore.GetByNameAsync(c, t, projectId, body.Name!) is not null)
                return TypedResults.ValidationProblem(new Validation().Add("name", $"A branch named '{body.Name}' already exists.").Errors);
            var stage = body.Stage ?? "development";
            if (stage == "production" && (await BranchStore.ListAsync(c, t, projectId)).Any(b => b.IsProduction))
                return TypedResults.ValidationProblem(new Validation().Add("stage", "This project already has a production branch; create the branch, then move it to production.").Errors);
            var branch = await BranchStore.CreateAsync(c, t, projectId, body.Name!, stage);
            await AuditLog.WriteAsync(c, t, Actor.User(userId, http.Connection.RemoteIpAddress), new(project.OrgId, projectId, "branch.create", "branch", branch.Id.ToString(), After: branch));
            return TypedResults.Created($"/api/ops/projects/{projectId}/branches/{branch.Id}", branch);
        }, ct);
    }

    static async Task<Results<Ok<Branch>, ValidationProblem, NotFound, ProblemHttpResult>> Move(
        Guid projectId, Guid branchId, MoveBranch body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation().Required("stage", body.Stage).OneOf("stage", body.Stage, BranchStore.Stages);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<Ok<Branch>, ValidationProblem, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
            await BranchStageMove.ApplyAsync(c, t, actor, projectId, branchId, body.Stage!) switch
            {
                BranchStageMove.Moved moved => TypedResults.Ok(moved.Branch),
                BranchStageMove.Refused refused => TypedResults.Problem(refused.Message, statusCode: 403, title: "Forbidden"),
                _ => TypedResults.NotFound(),
            }, ct);
    }

    static async Task<Results<NoContent, NotFound, ProblemHttpResult>> Archive(
        Guid projectId, Guid branchId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var userId = user.UserId();
        return await db.AsUserAsync<Results<NoContent, NotFound, ProblemHttpResult>>(userId, async (c, t) =>
        {
            var before = await BranchStore.GetAsync(c, t, projectId, branchId);
            if (before is null || before.ArchivedAt is not null) return TypedResults.NotFound();
            if (before.IsProduction)
                return TypedResults.Problem("The production branch cannot be archived: move another branch to production first.", statusCode: 409, title: "Conflict");
            var project = (await ProjectStore.GetAsync(c, t, projectId))!;
            if (await BranchStore.ArchiveAsync(c, t, projectId, branchId) is null)
                return TypedResults.Problem("Your role does not allow archiving this branch.", statusCode: 403, title: "Forbidden");
            await AuditLog.WriteAsync(c, t, Actor.User(userId, http.Connection.RemoteIpAddress), new(project.OrgId, projectId, "branch.archive", "branch", branchId.ToString(), Before: before));
            return TypedResults.NoContent();
        }, ct);
    }
}
