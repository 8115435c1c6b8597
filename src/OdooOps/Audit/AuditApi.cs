using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Audit;

/// <summary>
/// /api/ops/orgs/{orgId}/audit — the organisation's audit log, newest first, filtered (<see cref="AuditFilter"/>), a page
/// at a time (cursor: the next_cursor of the previous page); …/audit/export — the same filters as CSV, streamed.
/// Owners and admins.
/// </summary>
internal static class AuditApi
{
    public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextCursor);

    public const int DefaultLimit = 100, MaxLimit = 500;

    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/orgs/{orgId:guid}/audit").WithTags("Audit log").RequireAuthorization(AccessPolicies.Org(Role.Admin));
        audit.MapGet("/", List)
            .WithSummary("The audit log, newest first; filter by actor (email, system, webhook), action (member.role, member.*), target (TYPE:ID or one word), from and to (dates or times with offset); next page: cursor=next_cursor");
        audit.MapGet("/export", Export).Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .WithSummary("The audit log with the same filters as CSV, streamed (cells a spreadsheet would run as formulas start with an apostrophe)");
        return api;
    }

    static async Task<Results<Ok<AuditPage>, ValidationProblem>> List(Guid orgId, string? actor, string? action, string? target, string? from, string? to, long? cursor, int? limit,
        ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        if (limit is < 1 or > MaxLimit) v.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (cursor is < 1) v.Add("cursor", "cursor must be a next_cursor this API gave.");
        if (AuditFilter.Parse(new(actor, action, target, from, to), v) is not { } filter || !v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var (entries, next) = await db.AsUserAsync(user.UserId(), (c, t) => AuditStore.PageAsync(c, t, orgId, filter, cursor, limit ?? DefaultLimit), ct);
        return TypedResults.Ok(new AuditPage(entries, next));
    }

    static async Task<Results<EmptyHttpResult, ValidationProblem>> Export(Guid orgId, string? actor, string? action, string? target, string? from, string? to, ClaimsPrincipal user, OpsDatabase db,
        HttpContext http, CancellationToken ct)
    {
        var v = new Validation();
        if (AuditFilter.Parse(new(actor, action, target, from, to), v) is not { } filter) return TypedResults.ValidationProblem(v.Errors);
        // Nothing is sent before the database answers: a database that is down is still a 503 ProblemDetails.
        await db.AsUserAsync(user.UserId(), async (c, t) =>
        {
            http.Response.ContentType = AuditCsv.ContentType;
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv\"";
            await AuditCsv.WriteAsync(http.Response.Body, AuditStore.StreamAsync(c, t, orgId, filter, ct), ct);
            return true;
        }, ct);
        return TypedResults.Empty;
    }
}
