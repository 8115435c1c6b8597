using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Builds;

/// <summary>
/// A build's log, steps and modules: /api/ops/builds/{buildId}/logs, …/logs/stream (SSE), …/steps, …/modules.
/// Like GET /api/ops/builds/{buildId}, the route names no project: the build is read as the caller, so RLS decides
/// and another tenant's build is a 404 (fail closed: nothing is read with more rights than the caller's).
/// </summary>
internal static class BuildLogsApi
{
    public const int DefaultLimit = 1000, MaxLimit = 5000;

    public static RouteGroupBuilder MapBuildLogsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/builds/{buildId:guid}/logs", Logs).WithTags("Builds")
            .WithSummary("Log lines after a sequence number (after=-1: from the start); complete once the build finished and no line is left");
        api.MapGet("/builds/{buildId:guid}/logs/stream", Stream).WithTags("Builds")
            .Produces<string>(StatusCodes.Status200OK, BuildLogStream.ContentType)
            .ProducesValidationProblem()
            .WithSummary("The log live as Server-Sent Events (line, step, status, end); resumes after Last-Event-ID or ?after=; 429 past the caps on open streams");
        api.MapGet("/builds/{buildId:guid}/steps", Steps).WithTags("Builds")
            .WithSummary("The steps of the build's current attempt: name, status, exit code, duration");
        api.MapGet("/builds/{buildId:guid}/modules", Modules).WithTags("Builds")
            .WithSummary("The Odoo modules the runner found in the build's commit");
        return api;
    }

    static async Task<Results<Ok<BuildLogPage>, NotFound, ValidationProblem>> Logs(Guid buildId, long? after, int? limit,
        ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        if (after is < -1) v.Add("after", "after must be -1 (from the start) or a line's seq.");
        if (limit is < 1 or > MaxLimit) v.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var page = await db.AsUserAsync(user.UserId(), (c, t) => BuildLogStore.PageAsync(c, t, buildId, after ?? -1, limit ?? DefaultLimit), ct);
        return page is null ? TypedResults.NotFound() : TypedResults.Ok(page);
    }

    static async Task<IResult> Stream(Guid buildId, long? after, HttpContext http, ClaimsPrincipal user, OpsDatabase db,
        BuildLogNotifications notifications, BuildLogStreamSettings settings, BuildLogStreamLimits limits, IOptions<JsonOptions> json,
        CancellationToken ct)
    {
        // A reconnecting EventSource sends the id of the last event it got; it wins over the ?after= of the first URL.
        var v = new Validation();
        var from = SseWriter.ResumeAfter(http.Request, after, v);
        if (from is < -1) v.Add("after", "after must be -1 (from the start) or a line's seq.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var userId = user.UserId();
        // The slot first: a refused stream costs no database read, and it is held until the stream ends.
        using var slot = limits.TryOpen(http, userId, out var refused);
        if (slot is null) return refused!;
        if (await db.AsUserAsync(userId, (c, t) => BuildLogStore.StateAsync(c, t, buildId), ct) is null) return TypedResults.NotFound();
        await BuildLogStream.WriteAsync(http, db, notifications, settings, userId, buildId, from ?? -1, json.Value.SerializerOptions);
        return TypedResults.Empty;
    }

    static async Task<Results<Ok<BuildStepList>, NotFound>> Steps(Guid buildId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var list = await db.AsUserAsync(user.UserId(), async (c, t) =>
            await BuildLogStore.StateAsync(c, t, buildId) is { } state
                ? new BuildStepList(buildId, state.Status, await BuildLogStore.StepsAsync(c, t, buildId))
                : null, ct);
        return list is null ? TypedResults.NotFound() : TypedResults.Ok(list);
    }

    static async Task<Results<Ok<BuildModuleList>, NotFound>> Modules(Guid buildId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => BuildLogStore.ModulesAsync(c, t, buildId), ct) is { } list
            ? TypedResults.Ok(list)
            : TypedResults.NotFound();
}
