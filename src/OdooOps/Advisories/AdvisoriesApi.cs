using System.Globalization;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Advisories;

/// <summary>
/// /api/ops/advisories (the visible projects' advisories, filtered) and, per project,
/// /api/ops/projects/{projectId}/advisories/{advisoryId}/resolve|suppress (developer+, write scope, audited).
/// </summary>
internal static partial class AdvisoriesApi
{
    public sealed record AdvisoryList(IReadOnlyList<Advisory> Advisories);
    public sealed record SuppressBody(string? Until, string? Reason);

    public const int MaxReasonLength = 500;

    public static RouteGroupBuilder MapAdvisoriesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/advisories", List).WithTags("Advisories")
            .WithSummary("Advisories of the projects you can see; filter by project (id), status (open, resolved, suppressed, all; default open) and severity");
        var one = api.MapGroup("/projects/{projectId:guid}/advisories/{advisoryId:guid}").WithTags("Advisories");
        one.MapPost("/resolve", Resolve).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Resolve an advisory (developer); the next scan raises it again if its condition still holds");
        one.MapPost("/suppress", Suppress).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Suppress an advisory until a time (ISO 8601 with offset) for a reason (developer)");
        return api;
    }

    static async Task<Results<Ok<AdvisoryList>, ValidationProblem>> List(
        string? project, string? status, string? severity, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation().OneOf("status", status, [.. AdvisoryStore.Statuses, "all"]).OneOf("severity", severity, AdvisoryStore.Severities);
        Guid? projectId = null;
        if (project is not null)
        {
            if (Guid.TryParse(project, out var id)) projectId = id;
            else v.Add("project", "project must be a project's id (a uuid).");
        }
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var filter = status switch { null => "open", "all" => null, _ => status };
        var list = await db.AsUserAsync(user.UserId(), (c, t) => AdvisoryStore.ListAsync(c, t, projectId, filter, severity), ct);
        return TypedResults.Ok(new AdvisoryList(list));
    }

    /// <summary>Resolving a resolved advisory answers it unchanged (and writes no audit row).</summary>
    static async Task<Results<Ok<Advisory>, NotFound>> Resolve(
        Guid projectId, Guid advisoryId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var userId = user.UserId();
        return await db.AsUserAsync<Results<Ok<Advisory>, NotFound>>(userId, async (c, t) =>
        {
            var before = await AdvisoryStore.GetAsync(c, t, projectId, advisoryId);
            if (before is null) return TypedResults.NotFound();
            if (before.Status == "resolved") return TypedResults.Ok(before);
            await AdvisoryStore.ResolveAsync(c, t, advisoryId);
            var after = (await AdvisoryStore.GetAsync(c, t, projectId, advisoryId))!;
            await AuditAsync(c, t, userId, projectId, "advisory.resolve", before, after, http);
            return TypedResults.Ok(after);
        }, ct);
    }

    static async Task<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>> Suppress(
        Guid projectId, Guid advisoryId, SuppressBody body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation();
        var until = ParseUntil(body.Until, v);
        v.Required("reason", body.Reason, MaxReasonLength);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var userId = user.UserId();
        return await db.AsUserAsync<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>>(userId, async (c, t) =>
        {
            var before = await AdvisoryStore.GetAsync(c, t, projectId, advisoryId);
            if (before is null) return TypedResults.NotFound();
            if (before.Status == "resolved")
                return TypedResults.Problem("This advisory is resolved; a resolved advisory cannot be suppressed (the next scan reopens it if it still holds).",
                    statusCode: StatusCodes.Status409Conflict, title: "Conflict");
            await AdvisoryStore.SuppressAsync(c, t, advisoryId, until!.Value, body.Reason!.Trim());
            var after = (await AdvisoryStore.GetAsync(c, t, projectId, advisoryId))!;
            await AuditAsync(c, t, userId, projectId, "advisory.suppress", before, after, http);
            return TypedResults.Ok(after);
        }, ct);
    }

    /// <summary>
    /// An explicit offset (Z or ±hh:mm) is required: "until 9:00" means a different moment to every reader, and the
    /// server's own time zone must not decide it. The moment must be in the future.
    /// </summary>
    static DateTimeOffset? ParseUntil(string? raw, Validation v)
    {
        if (string.IsNullOrWhiteSpace(raw)) { v.Add("until", "until is required: an ISO 8601 time with offset, such as 2030-01-31T09:00:00+01:00."); return null; }
        if (!WithOffset().IsMatch(raw) || !DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out var until))
        {
            v.Add("until", "until must be an ISO 8601 time with offset, such as 2030-01-31T09:00:00+01:00 or 2030-01-31T08:00:00Z.");
            return null;
        }
        if (until <= DateTimeOffset.UtcNow) { v.Add("until", "until must be in the future."); return null; }
        return until;
    }

    static async Task AuditAsync(Npgsql.NpgsqlConnection c, Npgsql.NpgsqlTransaction t, Guid userId, Guid projectId, string action,
        Advisory before, Advisory after, HttpContext http)
    {
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, Actor.User(userId, http.Connection.RemoteIpAddress), new(project.OrgId, projectId, action, "advisory", after.Id.ToString(),
            new { before.Status, before.SuppressedUntil, before.SuppressReason },
            new { after.Rule, after.Fingerprint, after.Status, after.SuppressedUntil, after.SuppressReason }));
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")] private static partial Regex WithOffset();
}
