using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// /api/ops/projects/{projectId}/build-network: whether the project's build steps may open outbound connections
/// (default true). Members read it; project admins set it, audited.
/// </summary>
internal static class BuildNetworkApi
{
    public sealed record BuildNetwork(bool? OutboundAccess);

    public static RouteGroupBuilder MapBuildNetworkApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/build-network", GetAsync).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithTags("Projects").WithSummary("Whether this project's build steps may open outbound connections");
        api.MapPut("/projects/{projectId:guid}/build-network", PutAsync).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
            .WithTags("Projects").WithSummary("Allow or cut this project's build steps' outbound network (from the next build that starts)");
        return api;
    }

    static async Task<Results<Ok<BuildNetwork>, NotFound>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => ProjectBuildNetwork.GetAsync(c, t, projectId), ct) is { } outbound
            ? TypedResults.Ok(new BuildNetwork(outbound))
            : TypedResults.NotFound();

    static async Task<Results<Ok<BuildNetwork>, ValidationProblem, NotFound>> PutAsync(Guid projectId, BuildNetwork body, ClaimsPrincipal user,
        OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (body.OutboundAccess is not { } outbound)
            return TypedResults.ValidationProblem(new Validation().Add("outbound_access", "outbound_access (true or false) is required.").Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => ProjectBuildNetwork.SetAsync(c, t, actor, projectId, outbound), ct) is { } saved
            ? TypedResults.Ok(new BuildNetwork(saved))
            : TypedResults.NotFound();
    }
}
