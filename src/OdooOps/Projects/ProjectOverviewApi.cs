using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Instances;

namespace OdooOps.Projects;

/// <summary><c>GET /api/ops/projects/{projectId}/overview</c>: the project's overview page as JSON (<see cref="ProjectOverview"/>), for every member.</summary>
internal static class ProjectOverviewApi
{
    public static RouteGroupBuilder MapProjectOverviewApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/overview", GetAsync).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithTags("Projects")
            .WithSummary("Production's instance, the last deployment, the last builds per stage, open advisories by severity, 24 h of CPU, memory and requests");
        return api;
    }

    static async Task<Results<Ok<ProjectOverview>, NotFound>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, InstanceUrls urls,
        TimeProvider clock, HttpRequest request, CancellationToken ct)
    {
        var overview = await db.AsUserAsync(user.UserId(), async (c, t) =>
            await ProjectStore.GetSummaryAsync(c, t, projectId) is { } project
                ? await ProjectOverview.LoadAsync(c, t, project, clock.GetUtcNow().UtcDateTime)
                : null, ct);
        if (overview is null) return TypedResults.NotFound();
        return TypedResults.Ok(overview with
        {
            ProductionInstance = overview.ProductionInstance is { } i ? urls.WithUrl(i, request) : null,
        });
    }
}
