using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Admin;

/// <summary>
/// /api/ops/projects/{projectId}/runner-labels: the labels a runner must all have to take the project's builds
/// (e.g. odoo-19 on runners with Odoo 19 installed). Members read them; project admins set them, audited. They apply
/// to builds queued from then on.
/// </summary>
internal static class RunnerLabelsApi
{
    public sealed record RunnerLabels(IReadOnlyList<string>? Labels);

    public static RouteGroupBuilder MapRunnerLabelsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/runner-labels", GetAsync).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithTags("Runners").WithSummary("Labels a runner needs to take this project's builds");
        api.MapPut("/projects/{projectId:guid}/runner-labels", PutAsync).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
            .WithTags("Runners").WithSummary("Set the labels a runner needs to take this project's builds (from the next queued build)");
        return api;
    }

    static async Task<Results<Ok<RunnerLabels>, NotFound>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => ProjectRunnerLabels.GetAsync(c, t, projectId), ct) is { } labels
            ? TypedResults.Ok(new RunnerLabels(labels))
            : TypedResults.NotFound();

    static async Task<Results<Ok<RunnerLabels>, ValidationProblem, NotFound>> PutAsync(Guid projectId, RunnerLabels body, ClaimsPrincipal user,
        OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (RunnerLabelRules.Validate(body.Labels) is { } problem) return TypedResults.ValidationProblem(new Validation().Add("labels", problem).Errors);
        var userId = user.UserId();
        return await db.AsUserAsync(userId, (c, t) => ProjectRunnerLabels.SetAsync(c, t, userId, projectId, body.Labels!, http.Connection.RemoteIpAddress), ct)
            is { } saved
            ? TypedResults.Ok(new RunnerLabels(saved))
            : TypedResults.NotFound();
    }
}
