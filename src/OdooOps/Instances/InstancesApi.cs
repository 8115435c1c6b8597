using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Instances;

/// <summary>
/// /api/ops/projects/{projectId}/instances and /api/ops/instances/{instanceId}[/start|stop|restart]; the logs in
/// <see cref="InstanceLogsApi"/>. Routes that name no project read the instance as the caller, so RLS decides and
/// another tenant's instance is a 404. Actions answer 202: the runner carries them out at its next sync.
/// </summary>
internal static class InstancesApi
{
    public sealed record InstanceList(IReadOnlyList<Instance> Instances);

    public static RouteGroupBuilder MapInstancesApi(this RouteGroupBuilder api)
    {
        api.MapGroup("/projects/{projectId:guid}/instances").WithTags("Instances")
            .RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .MapGet("/", List).ProducesValidationProblem()
            .WithSummary("A project's instances (optionally one branch's): production, staging, development; retired ones with include_retired=true");

        var one = api.MapGroup("/instances/{instanceId:guid}").WithTags("Instances");
        one.MapGet("/", Get).WithSummary("One instance: state and reason, what was asked (desired), release, URL, runner, ports, times");
        var actions = one.MapGroup("").RequireAuthorization(AccessPolicies.Write);
        foreach (var action in InstanceStore.Actions)
            actions.MapPost($"/{action}", (Guid instanceId, ClaimsPrincipal user, OpsDatabase db, InstanceUrls urls, HttpContext http, CancellationToken ct) =>
                    ActAsync(action, instanceId, user, db, urls, http, ct))
                .Produces<Instance>(StatusCodes.Status202Accepted)
                .WithName($"instance-{action}")
                .WithSummary(action switch
                {
                    "start" => "Ask the instance's runner to start it (a failed one: a fresh attempt); developer, testers on staging and development",
                    "stop" => "Ask the instance's runner to stop it; it stays stopped until started (developer, testers on staging and development)",
                    _ => "Ask the instance's runner to restart it (developer, testers on staging and development)",
                });
        api.MapInstanceLogsApi();
        return api;
    }

    static async Task<Results<Ok<InstanceList>, ValidationProblem>> List(Guid projectId, string? branch_id, bool? include_retired,
        ClaimsPrincipal user, OpsDatabase db, InstanceUrls urls, HttpContext http, CancellationToken ct)
    {
        Guid? branchId = null;
        if (branch_id is not null)
        {
            if (!Guid.TryParse(branch_id, out var id)) return Invalid("branch_id", "branch_id must be a branch's id.");
            branchId = id;
        }
        var list = await db.AsUserAsync(user.UserId(), async (c, t) =>
            branchId is { } b && !await InstanceStore.BranchExistsAsync(c, t, projectId, b)
                ? null
                : await InstanceStore.ListAsync(c, t, projectId, branchId, include_retired ?? false), ct);
        return list is null
            ? Invalid("branch_id", "No such branch in this project.")
            : TypedResults.Ok(new InstanceList([.. list.Select(i => urls.WithUrl(i, http.Request))]));
    }

    static async Task<Results<Ok<Instance>, NotFound>> Get(Guid instanceId, ClaimsPrincipal user, OpsDatabase db, InstanceUrls urls,
        HttpContext http, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => InstanceStore.GetAsync(c, t, instanceId), ct) is { } instance
            ? TypedResults.Ok(urls.WithUrl(instance, http.Request))
            : TypedResults.NotFound();

    static async Task<IResult> ActAsync(string action, Guid instanceId, ClaimsPrincipal user, OpsDatabase db, InstanceUrls urls,
        HttpContext http, CancellationToken ct) =>
        await InstanceActions.RequestAsync(db, Actor.Of(user, http), instanceId, action, ct) switch
        {
            InstanceActions.Requested r => TypedResults.Json(urls.WithUrl(r.Instance, http.Request), statusCode: StatusCodes.Status202Accepted),
            InstanceActions.Refused r => TypedResults.Problem(r.Reason, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
            InstanceActions.Retired r => TypedResults.Problem(r.Reason, statusCode: StatusCodes.Status409Conflict, title: "Instance retired"),
            _ => TypedResults.Problem("No such instance, or it is not yours to see.", statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        };

    static ValidationProblem Invalid(string field, string message) => TypedResults.ValidationProblem(new Validation().Add(field, message).Errors);
}
