using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Metrics;

/// <summary>
/// <c>GET /api/ops/projects/{projectId}/metrics?metric=&amp;from=&amp;to=&amp;range=&amp;step=&amp;branch=</c>: one metric of one
/// branch (the production branch unless named) as a series of buckets, read from raw samples, minute or hour rollups
/// by the span asked for (<see cref="MetricSeriesQuery"/>). <c>…/metrics/summary</c>: every metric of the branch over
/// the span, each summarised (<see cref="MetricBoard"/>: what the Metrics page's table and `odooops metrics show`
/// show). Rollups trail the samples by up to a minute (the rollups job).
/// </summary>
internal static class MetricSeriesApi
{
    public sealed record MetricSeries(Guid ProjectId, string Metric, string Branch, string Resolution, int StepSeconds,
        DateTime From, DateTime To, IReadOnlyList<MetricPoint> Points);
    public sealed record MetricsSummary(Guid ProjectId, string Branch, string Resolution, int StepSeconds, DateTime From, DateTime To,
        IReadOnlyList<MetricSummary> Metrics);

    public static RouteGroupBuilder MapMetricSeriesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/metrics", Get).WithTags("Metrics")
            .RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("One metric as a series (or range=1h|24h|7d|30d): raw samples under 2 hours, minute rollups under 3 days (hour rollups for whole-hour steps), hour rollups beyond");
        api.MapGet("/projects/{projectId:guid}/metrics/summary", Summary).WithTags("Metrics")
            .RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("Every metric of a branch over a span (range=1h|24h|7d|30d, or from and to): samples, latest value, mean, extremes");
        return api;
    }

    static async Task<Results<Ok<MetricSeries>, ValidationProblem>> Get(Guid projectId, string? metric, string? branch, string? from,
        string? to, string? range, string? step, ClaimsPrincipal user, OpsDatabase db, TimeProvider clock, CancellationToken ct)
    {
        var (query, errors) = MetricSeriesQuery.Parse(metric, branch, from, to, step, clock.GetUtcNow().UtcDateTime, range);
        if (query is null) return TypedResults.ValidationProblem(errors.Errors);
        return await db.AsUserAsync<Results<Ok<MetricSeries>, ValidationProblem>>(user.UserId(), async (c, t) =>
        {
            if (await MetricSeriesStore.FindBranchAsync(c, t, projectId, query.Branch) is not { } b) return NoBranch(query);
            var points = await MetricSeriesStore.ReadAsync(c, t, projectId, b.Id, query);
            return TypedResults.Ok(new MetricSeries(projectId, query.Metric, b.Name, Resolution(query), (int)query.Step.TotalSeconds, query.From, query.To, points));
        }, ct);
    }

    static async Task<Results<Ok<MetricsSummary>, ValidationProblem>> Summary(Guid projectId, string? branch, string? from, string? to,
        string? range, ClaimsPrincipal user, OpsDatabase db, TimeProvider clock, CancellationToken ct)
    {
        var (query, errors) = MetricSeriesQuery.ParseSpan(branch, from, to, null, clock.GetUtcNow().UtcDateTime, from is null && to is null ? range ?? "24h" : range);
        if (query is null) return TypedResults.ValidationProblem(errors.Errors);
        return await db.AsUserAsync<Results<Ok<MetricsSummary>, ValidationProblem>>(user.UserId(), async (c, t) =>
        {
            if (await MetricSeriesStore.FindBranchAsync(c, t, projectId, query.Branch) is not { } b) return NoBranch(query);
            var board = await MetricBoard.ReadAsync(c, t, projectId, b.Id, query);
            return TypedResults.Ok(new MetricsSummary(projectId, b.Name, Resolution(query), (int)query.Step.TotalSeconds, query.From, query.To,
                [.. board.Select(s => s.Summary)]));
        }, ct);
    }

    static string Resolution(MetricSeriesQuery q) => q.Resolution.ToString().ToLowerInvariant();

    static ValidationProblem NoBranch(MetricSeriesQuery q) =>
        TypedResults.ValidationProblem(new Validation().Add("branch", q.Branch is null
            ? "This project has no production branch: name the branch with ?branch=."
            : $"This project has no branch named '{q.Branch}'.").Errors);
}
