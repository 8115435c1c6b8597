using System.Security.Claims;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Runners;

/// <summary>
/// /api/ops/projects/{projectId}/runner-labels: the labels a runner must all have to take the project's builds
/// (e.g. odoo-19 on runners with Odoo 19 installed). Members read them; project admins set them, audited. They apply
/// to builds queued from then on.
/// </summary>
public static partial class RunnerLabelsApi
{
    public sealed record RunnerLabels(IReadOnlyList<string>? Labels);

    public static RouteGroupBuilder MapRunnerLabelsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/runner-labels", GetAsync).RequireAuthorization(AccessPolicies.Project("viewer"))
            .WithTags("Runners").WithSummary("Labels a runner needs to take this project's builds");
        api.MapPut("/projects/{projectId:guid}/runner-labels", PutAsync).RequireAuthorization(AccessPolicies.Project("admin"), AccessPolicies.Write)
            .WithTags("Runners").WithSummary("Set the labels a runner needs to take this project's builds (from the next queued build)");
        return api;
    }

    static async Task<Results<Ok<RunnerLabels>, NotFound>> GetAsync(Guid projectId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => c.QuerySingleOrDefaultAsync<string[]?>(
                "select runner_labels from ops.projects where id = @projectId", new { projectId }, t), ct) is { } labels
            ? TypedResults.Ok(new RunnerLabels(labels))
            : TypedResults.NotFound();

    static async Task<Results<Ok<RunnerLabels>, ValidationProblem, NotFound>> PutAsync(Guid projectId, RunnerLabels body, ClaimsPrincipal user,
        OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (Validate(body.Labels) is { } problem) return TypedResults.ValidationProblem(new Validation().Add("labels", problem).Errors);
        string[] labels = [.. body.Labels!.Distinct().Order(StringComparer.Ordinal)];
        var userId = user.UserId();
        return await db.AsUserAsync<Results<Ok<RunnerLabels>, ValidationProblem, NotFound>>(userId, async (c, t) =>
        {
            var before = await c.QuerySingleOrDefaultAsync<(Guid OrgId, string[] Labels)?>(
                "select org_id, runner_labels from ops.projects where id = @projectId for update", new { projectId }, t);
            if (before is not { } b) return TypedResults.NotFound();
            await c.ExecuteAsync("update ops.projects set runner_labels = @labels where id = @projectId", new { projectId, labels }, t);
            await AuditLog.WriteAsync(c, t, userId, new(b.OrgId, projectId, "project.runner_labels", "project", projectId.ToString(),
                new { labels = b.Labels }, new { labels }), http.Connection.RemoteIpAddress);
            return TypedResults.Ok(new RunnerLabels(labels));
        }, ct);
    }

    /// <summary>The same rule as a runner's own labels at registration; null when valid.</summary>
    internal static string? Validate(IReadOnlyList<string>? labels) =>
        labels is null ? "labels is required (an empty list takes any runner)."
        : labels.Count > 32 || labels.Any(l => l is null || !LabelPattern().IsMatch(l))
            ? "labels: at most 32, each lower-case letters, digits, '.', '_' or '-' (at most 63)."
            : null;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex LabelPattern();
}
