using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.EnvVars;

/// <summary>
/// /api/ops/projects/{projectId}/env — a project's environment variables per stage: developers and up read them
/// (production's secrets: admins and up) and change staging's and development's; production's are admins'. A secret's
/// value is write-only: no answer holds it. Every change answers which instances run with older variables (restart
/// them: POST /api/ops/instances/{id}/restart).
/// </summary>
internal static class EnvVarsApi
{
    public sealed record EnvList(IReadOnlyList<EnvVar> Variables, IReadOnlyList<RestartNeeded> RestartNeeded);
    public sealed record EnvVarBody(string? Value, bool? Secret);
    public sealed record EnvVarSaved(EnvVar Variable, IReadOnlyList<RestartNeeded> RestartNeeded);
    public sealed record EnvVarRemoved(IReadOnlyList<RestartNeeded> RestartNeeded);

    public static RouteGroupBuilder MapEnvVarsApi(this RouteGroupBuilder api)
    {
        var env = api.MapGroup("/projects/{projectId:guid}/env").WithTags("Environment variables");
        env.MapGet("/", ListAsync).RequireAuthorization(AccessPolicies.Project(Role.Developer))
            .WithSummary("The project's variables (?stage= one stage), secrets without their value, and the instances that need a restart");
        env.MapPut("/{stage}/{name}", SetAsync).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Add or change a variable: {\"value\": …, \"secret\": true|false}; a secret's value is never sent back");
        env.MapDelete("/{stage}/{name}", UnsetAsync).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Remove a variable");
        return api;
    }

    static async Task<Results<Ok<EnvList>, ValidationProblem>> ListAsync(Guid projectId, string? stage, ClaimsPrincipal user, OpsDatabase db,
        CancellationToken ct)
    {
        if (stage is not null && new Validation().Stage("stage", stage) is { IsValid: false } v) return TypedResults.ValidationProblem(v.Errors);
        return TypedResults.Ok(await db.AsUserAsync(user.UserId(), async (c, t) =>
            new EnvList(await EnvVarStore.ListAsync(c, t, projectId, stage), await EnvVarStore.RestartNeededAsync(c, t, projectId, stage)), ct));
    }

    static async Task<Results<Ok<EnvVarSaved>, Created<EnvVarSaved>, ValidationProblem, ProblemHttpResult, NotFound>> SetAsync(Guid projectId,
        string stage, string name, EnvVarBody body, ClaimsPrincipal user, OpsDatabase db, EnvSecretBox box, HttpContext http, CancellationToken ct)
    {
        var change = new EnvVarWrites.Change(stage, name, body.Value, body.Secret);
        if (EnvVarWrites.Validate(change, EnvVarRules.ApiFields) is { IsValid: false } v) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => EnvVarWrites.SetAsync(c, t, actor, box, projectId, change, EnvVarRules.ApiFields), ct) switch
        {
            EnvVarWrites.Saved { Created: true } s => TypedResults.Created($"/api/ops/projects/{projectId}/env/{stage}/{name}", new EnvVarSaved(s.Variable, s.RestartNeeded)),
            EnvVarWrites.Saved s => TypedResults.Ok(new EnvVarSaved(s.Variable, s.RestartNeeded)),
            EnvVarWrites.Invalid i => TypedResults.ValidationProblem(new Validation().Add(i.Field, i.Message).Errors),
            EnvVarWrites.Refused r => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: r.Reason),
            _ => TypedResults.NotFound(),
        };
    }

    static async Task<Results<Ok<EnvVarRemoved>, ValidationProblem, ProblemHttpResult, NotFound>> UnsetAsync(Guid projectId, string stage, string name,
        ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (new Validation().Stage("stage", stage) is { IsValid: false } v) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => EnvVarWrites.UnsetAsync(c, t, actor, projectId, stage, name), ct) switch
        {
            EnvVarWrites.Removed r => TypedResults.Ok(new EnvVarRemoved(r.RestartNeeded)),
            EnvVarWrites.Refused r => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: r.Reason),
            _ => TypedResults.NotFound(),
        };
    }
}
