using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Builds;

/// <summary>
/// `POST /functions/v1/ops-trigger-build` (the seed's function: answers `{"build_id", "status"}`) and
/// `POST /api/ops/builds` (answers the build). 202 when queued, 200 with the existing build when the same branch
/// and commit is already queued or running, 429 when the project's queue is full.
/// </summary>
internal static class BuildTriggerApi
{
    public sealed record TriggerBody(Guid? ProjectId, Guid? BranchId, string? Branch, string? CommitSha);
    public sealed record FunctionAnswer([property: JsonPropertyName("build_id")] Guid BuildId, [property: JsonPropertyName("status")] string Status);

    public static IEndpointRouteBuilder MapBuildTriggerApi(this IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        app.MapPost("/functions/v1/ops-trigger-build", Function).RequireAuthorization(AccessPolicies.Write).WithTags("Functions")
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(429)
            .WithSummary("Queue a build (developer; testers on staging and development)");
        api.MapPost("/builds", Api).RequireAuthorization(AccessPolicies.Write).WithTags("Builds")
            .WithSummary("Queue a build (developer; testers on staging and development)");
        return app;
    }

    static Task<IResult> Function(TriggerBody body, ClaimsPrincipal user, OpsDatabase db, BuildTrigger trigger, HttpContext http, CancellationToken ct) =>
        RunAsync(body, user, db, trigger, http, b => new FunctionAnswer(b.Id, b.Status), ct);

    static Task<IResult> Api(TriggerBody body, ClaimsPrincipal user, OpsDatabase db, BuildTrigger trigger, HttpContext http, CancellationToken ct) =>
        RunAsync(body, user, db, trigger, http, b => b, ct);

    static async Task<IResult> RunAsync(TriggerBody body, ClaimsPrincipal user, OpsDatabase db, BuildTrigger trigger, HttpContext http,
        Func<Build, object> answer, CancellationToken ct)
    {
        var request = new BuildTrigger.Request(body.ProjectId, body.BranchId, body.Branch, body.CommitSha);
        var actor = Actor.Of(user, http);
        var outcome = await db.AsUserAsync(actor.UserId, (c, t) => trigger.TriggerAsync(c, t, actor, request, "api"), ct);
        return outcome switch
        {
            BuildTrigger.Queued q => TypedResults.Json(answer(q.Build), statusCode: StatusCodes.Status202Accepted),
            BuildTrigger.AlreadyQueued a => TypedResults.Json(answer(a.Build)),
            BuildTrigger.Invalid i => TypedResults.ValidationProblem(i.Errors.Errors),
            BuildTrigger.Refused r => TypedResults.Problem(r.Reason, statusCode: 403, title: "Forbidden"),
            BuildTrigger.TooMany m => TypedResults.Problem($"This project already has {m.Queued} queued builds; wait for some to run or cancel them.", statusCode: 429, title: "Too many queued builds"),
            _ => TypedResults.Problem("No such project, or it is not yours to see.", statusCode: 404, title: "Not found"),
        };
    }
}
