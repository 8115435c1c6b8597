using System.Security.Claims;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// POST /api/ops/builds/{buildId}/cancel and …/rebuild. Cancel answers 200 with the build (queued: cancelled at
/// once; running: cancel_requested_at set, the status stays running until the runner stops), 409 when the build
/// had already finished. Rebuild answers 202 with a new build of the same branch and commit (trigger "rebuild"),
/// or 200 with the build of that branch and commit that is already queued or running.
/// </summary>
internal static class BuildActionsApi
{
    public static RouteGroupBuilder MapBuildActionsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/builds/{buildId:guid}/cancel", Cancel).RequireAuthorization(AccessPolicies.Write).WithTags("Builds")
            .Produces<Build>()
            .WithSummary("Cancel a queued or running build (developer; testers on staging and development); 409 once finished");
        api.MapPost("/builds/{buildId:guid}/rebuild", Rebuild).RequireAuthorization(AccessPolicies.Write).WithTags("Builds")
            .Produces<Build>(StatusCodes.Status202Accepted).Produces<Build>()
            .WithSummary("Queue a new build of the same branch and commit (trigger rebuild)");
        return api;
    }

    static async Task<IResult> Cancel(Guid buildId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
        await BuildActions.CancelAsync(db, Actor.Of(user, http), buildId, ct) switch
        {
            BuildActions.Cancelled c => TypedResults.Ok(c.Build),
            BuildActions.AlreadyFinished f => TypedResults.Problem($"Build {f.Build.Id} already finished ({f.Build.Status}); there is nothing to cancel.",
                statusCode: StatusCodes.Status409Conflict, title: "Already finished"),
            BuildActions.Refused r => TypedResults.Problem(r.Reason, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
            _ => NotFound(),
        };

    static async Task<IResult> Rebuild(Guid buildId, ClaimsPrincipal user, OpsDatabase db, BuildTrigger trigger, HttpContext http, CancellationToken ct) =>
        await BuildActions.RebuildAsync(db, trigger, Actor.Of(user, http), buildId, ct) switch
        {
            BuildTrigger.Queued q => TypedResults.Json(q.Build, statusCode: StatusCodes.Status202Accepted),
            BuildTrigger.AlreadyQueued a => TypedResults.Ok(a.Build),
            // The caller sent no body: an unusable branch (archived since) is a conflict with the build's state, not bad input.
            BuildTrigger.Invalid => TypedResults.Problem("The branch of this build is archived; it cannot be built again.",
                statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
            BuildTrigger.Refused r => TypedResults.Problem(r.Reason, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
            BuildTrigger.TooMany m => TypedResults.Problem($"This project already has {m.Queued} queued builds; wait for some to run or cancel them.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many queued builds"),
            _ => NotFound(),
        };

    static IResult NotFound() =>
        TypedResults.Problem("No such build, or it is not yours to see.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
}
