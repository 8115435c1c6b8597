using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Advisories;

/// <summary>
/// /api/ops/advisories (the visible projects' advisories, filtered), /api/ops/advisories/{id} (one with its history)
/// and, per project, /api/ops/projects/{projectId}/advisories/{advisoryId}/resolve|suppress|unsuppress (developer+,
/// write scope, audited: <see cref="AdvisoryActions"/>).
/// </summary>
internal static partial class AdvisoriesApi
{
    public sealed record AdvisoryList(IReadOnlyList<Advisory> Advisories);
    public sealed record AdvisoryDetail(Advisory Advisory, IReadOnlyList<AdvisoryEvent> History);
    public sealed record SuppressBody(string? Until, string? Reason);

    public static RouteGroupBuilder MapAdvisoriesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/advisories", List).WithTags("Advisories")
            .WithSummary("Advisories of the projects you can see; filter by org (id), project (id), status (open, resolved, suppressed, all; default open), severity and rule");
        api.MapGet("/advisories/{advisoryId:guid}", Get).WithTags("Advisories")
            .WithSummary("One advisory with its history: opened, suppressed (by whom, until when, why), un-suppressed, resolved");
        var one = api.MapGroup("/projects/{projectId:guid}/advisories/{advisoryId:guid}").WithTags("Advisories");
        one.MapPost("/resolve", Resolve).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Resolve an advisory (developer); the next scan raises it again if its condition still holds");
        one.MapPost("/suppress", Suppress).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("Suppress an advisory until a time (ISO 8601 with offset, or a date: to the end of that day UTC) for a reason (developer)");
        one.MapPost("/unsuppress", Unsuppress).RequireAuthorization(AccessPolicies.Project(Role.Developer), AccessPolicies.Write)
            .WithSummary("End an advisory's suppression now: it is open again (developer)");
        return api;
    }

    /// <summary>The filters of a list, checked (the API's query and the console's alike); null fields are "any".</summary>
    public static AdvisoryFilter? ValidFilter(string? org, string? project, string? status, string? severity, string? rule, Validation v)
    {
        v.OneOf("status", status, [.. AdvisoryStore.Statuses, "all"]).OneOf("severity", severity, AdvisoryStore.Severities);
        var orgId = Id("org", org, "an organisation's", v);
        var projectId = Id("project", project, "a project's", v);
        if (rule is not null && !RuleName().IsMatch(rule)) v.Add("rule", "rule must be a rule's name: lower-case letters, digits and underscores (at most 100).");
        return v.IsValid ? new AdvisoryFilter(orgId, projectId, status switch { null => "open", "all" => null, _ => status }, severity, rule) : null;
    }

    static Guid? Id(string field, string? raw, string whose, Validation v)
    {
        if (raw is null) return null;
        if (Guid.TryParse(raw, out var id)) return id;
        v.Add(field, $"{field} must be {whose} id (a uuid).");
        return null;
    }

    static async Task<Results<Ok<AdvisoryList>, ValidationProblem>> List(
        string? org, string? project, string? status, string? severity, string? rule, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        if (ValidFilter(org, project, status, severity, rule, v) is not { } filter) return TypedResults.ValidationProblem(v.Errors);
        var list = await db.AsUserAsync(user.UserId(), (c, t) => AdvisoryStore.ListAsync(c, t, filter), ct);
        return TypedResults.Ok(new AdvisoryList(list));
    }

    static async Task<Results<Ok<AdvisoryDetail>, NotFound>> Get(Guid advisoryId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync<Results<Ok<AdvisoryDetail>, NotFound>>(user.UserId(), async (c, t) =>
            await AdvisoryStore.GetAsync(c, t, advisoryId) is { } advisory
                ? TypedResults.Ok(new AdvisoryDetail(advisory, await AdvisoryStore.HistoryAsync(c, t, [advisoryId])))
                : TypedResults.NotFound(), ct);

    static Task<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>> Resolve(
        Guid projectId, Guid advisoryId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
        ActAsync(db, Actor.Of(user, http), (c, t, actor) => AdvisoryActions.ResolveAsync(c, t, actor, projectId, advisoryId), ct);

    static Task<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>> Unsuppress(
        Guid projectId, Guid advisoryId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
        ActAsync(db, Actor.Of(user, http), (c, t, actor) => AdvisoryActions.UnsuppressAsync(c, t, actor, projectId, advisoryId), ct);

    static async Task<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>> Suppress(
        Guid projectId, Guid advisoryId, SuppressBody body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, TimeProvider clock, CancellationToken ct)
    {
        var v = new Validation();
        if (AdvisoryActions.ValidSuppression(body.Until, body.Reason, clock.GetUtcNow(), v) is not { } s)
            return TypedResults.ValidationProblem(v.Errors);
        return await ActAsync(db, Actor.Of(user, http), (c, t, actor) => AdvisoryActions.SuppressAsync(c, t, actor, projectId, advisoryId, s.Until, s.Reason), ct);
    }

    static Task<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>> ActAsync(OpsDatabase db, Actor actor,
        Func<Npgsql.NpgsqlConnection, Npgsql.NpgsqlTransaction, Actor, Task<AdvisoryActions.Outcome>> act, CancellationToken ct) =>
        db.AsUserAsync<Results<Ok<Advisory>, ValidationProblem, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
            await act(c, t, actor) switch
            {
                AdvisoryActions.Done done => TypedResults.Ok(done.Advisory),
                AdvisoryActions.Forbidden f => TypedResults.Problem(f.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
                AdvisoryActions.Conflict conflict => TypedResults.Problem(conflict.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
                _ => TypedResults.NotFound(),
            }, ct);

    [GeneratedRegex("^[a-z0-9_]{1,100}$")] private static partial Regex RuleName();
}
