using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Branches;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Builds;

/// <summary>/api/ops/projects/{projectId}/builds and /api/ops/builds/{buildId}; logs, steps and modules in BuildLogsApi, cancel and rebuild in BuildActionsApi.</summary>
internal static class BuildsApi
{
    public sealed record BuildPage(IReadOnlyList<Build> Builds, string? NextCursor);

    public static RouteGroupBuilder MapBuildsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/builds", List).WithTags("Builds").RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("Builds of a project, newest first; filter by branch (id or name) and status; cursor pagination");
        api.MapGet("/builds/{buildId:guid}", Get).WithTags("Builds")
            .WithSummary("One build (RLS: another tenant's build is a 404)");
        api.MapBuildLogsApi();
        api.MapBuildActionsApi();
        return api;
    }

    static async Task<Results<Ok<BuildPage>, ValidationProblem>> List(Guid projectId, string? branch, string? status, string? cursor, int? limit,
        ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation().OneOf("status", status, BuildStatus.All);
        if (limit is < 1 or > 200) v.Add("limit", "limit must be between 1 and 200.");
        BuildStore.Cursor? after = null;
        try { after = BuildStore.Cursor.Decode(cursor); }
        catch (FormatException) { v.Add("cursor", "cursor is not one this API returned."); }
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        return await db.AsUserAsync<Results<Ok<BuildPage>, ValidationProblem>>(user.UserId(), async (c, t) =>
        {
            Guid? branchId = null;
            if (branch is not null)
            {
                branchId = Guid.TryParse(branch, out var id) ? id : (await BranchStore.GetByNameAsync(c, t, projectId, branch))?.Id;
                if (branchId is null) return TypedResults.ValidationProblem(new Validation().Add("branch", $"No branch '{branch}' in this project.").Errors);
            }
            var (page, next) = await BuildStore.ListAsync(c, t, projectId, branchId, status, after, limit ?? 50);
            return TypedResults.Ok(new BuildPage(page, next));
        }, ct);
    }

    static async Task<Results<Ok<Build>, NotFound>> Get(Guid buildId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => BuildStore.GetAsync(c, t, buildId), ct) is { } b ? TypedResults.Ok(b) : TypedResults.NotFound();
}
