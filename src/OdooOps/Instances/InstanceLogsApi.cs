using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OdooOps.Auth;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Instances;

/// <summary>
/// An instance's Odoo log: /api/ops/instances/{instanceId}/logs (JSON pages, keyset by seq) and …/logs/stream (SSE).
/// Both filter by minimum level and by text (case-insensitive). Read as the caller (RLS): another tenant's instance is
/// a 404. Streams count against the same caps as build log streams (OPS_BUILD_LOG_STREAMS_PER_USER / _MAX).
/// </summary>
internal static class InstanceLogsApi
{
    public const int DefaultLimit = 200, MaxLimit = 5000;

    public static RouteGroupBuilder MapInstanceLogsApi(this RouteGroupBuilder api)
    {
        var logs = api.MapGroup("/instances/{instanceId:guid}/logs").WithTags("Instances");
        logs.MapGet("/", Logs).ProducesValidationProblem()
            .WithSummary("Log lines: after after_seq (keyset), or the last ones without it; level = minimum level, q = text contained (case-insensitive)");
        logs.MapGet("/stream", Stream)
            .Produces<string>(StatusCodes.Status200OK, SseWriter.ContentType)
            .ProducesValidationProblem()
            .WithSummary("The log live as Server-Sent Events (line, state), filtered like …/logs; from after_seq or Last-Event-ID, else new lines only; 429 past the caps on open streams");
        return api;
    }

    static async Task<Results<Ok<InstanceLogPage>, NotFound, ValidationProblem>> Logs(Guid instanceId, string? level, string? q, long? after_seq, int? limit,
        ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        var filter = InstanceLogFilter.Parse(level, q, v);
        if (after_seq is < -1) v.Add("after_seq", "after_seq must be -1 (from the start) or a line's seq.");
        if (limit is < 1 or > MaxLimit) v.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var page = await db.AsUserAsync(user.UserId(), (c, t) => InstanceLogStore.PageAsync(c, t, instanceId, filter, after_seq, limit ?? DefaultLimit), ct);
        return page is null ? TypedResults.NotFound() : TypedResults.Ok(page);
    }

    static async Task<IResult> Stream(Guid instanceId, string? level, string? q, long? after_seq, HttpContext http, ClaimsPrincipal user,
        OpsDatabase db, InstanceLogNotifications notifications, BuildLogStreamSettings settings, BuildLogStreamLimits limits,
        IOptions<JsonOptions> json, CancellationToken ct)
    {
        var v = new Validation();
        var filter = InstanceLogFilter.Parse(level, q, v);
        var from = SseWriter.ResumeAfter(http.Request, after_seq, v);
        if (from is < -1) v.Add("after_seq", "after_seq must be -1 (from the start) or a line's seq.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var userId = user.UserId();
        using var slot = limits.TryOpen(http, userId, out var refused); // before any read, held until the stream ends
        if (slot is null) return refused!;
        var visible = await db.AsUserAsync(userId, (c, t) => InstanceStore.GetAsync(c, t, instanceId), ct) is not null;
        if (!visible) return TypedResults.NotFound();
        await InstanceLogStream.WriteAsync(http, db, notifications, settings, userId, instanceId, filter, from, json.Value.SerializerOptions);
        return TypedResults.Empty;
    }
}
