using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// /api/ops/projects/{projectId}/instance-settings: a development build's instance lifetime (default 3 days) and how
/// many development instances run at once (default 5). Members read them; project admins set them, audited.
/// </summary>
internal static class InstanceSettingsApi
{
    /// <summary>The body of a change: a setting left out (null) stays as it is.</summary>
    public sealed record InstanceSettingsChange(double? DevTtlHours, int? MaxDevInstances);

    public static RouteGroupBuilder MapInstanceSettingsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/instance-settings", GetAsync).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithTags("Projects").WithSummary("A development instance's lifetime (hours) and how many run at once in this project");
        api.MapPut("/projects/{projectId:guid}/instance-settings", PutAsync).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
            .WithTags("Projects")
            .WithSummary("Set dev_ttl_hours (10 minutes to 90 days) and/or max_dev_instances (0–100); a new lifetime applies to instances started afterwards");
        return api;
    }

    static async Task<Results<Ok<ProjectInstanceSettings.Settings>, NotFound>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db,
        CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => ProjectInstanceSettings.GetAsync(c, t, projectId), ct) is { } settings
            ? TypedResults.Ok(settings)
            : TypedResults.NotFound();

    static async Task<Results<Ok<ProjectInstanceSettings.Settings>, ValidationProblem, NotFound>> PutAsync(Guid projectId,
        InstanceSettingsChange body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (ProjectInstanceSettings.Validate(body.DevTtlHours, body.MaxDevInstances, out var change) is { IsValid: false } v)
            return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => ProjectInstanceSettings.SetAsync(c, t, actor, projectId, change), ct) is { } saved
            ? TypedResults.Ok(saved)
            : TypedResults.NotFound();
    }
}
