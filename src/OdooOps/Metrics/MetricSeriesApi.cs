using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Metrics;

/// <summary>
/// <c>GET /api/ops/projects/{projectId}/metrics?metric=&amp;from=&amp;to=&amp;step=&amp;branch=</c>: one metric of one
/// branch (the production branch unless named) as a series of buckets, read from raw samples, minute or hour rollups
/// by the span asked for (<see cref="MetricSeriesQuery"/>). Rollups trail the samples by up to a minute (the rollups job).
/// </summary>
internal static class MetricSeriesApi
{
    public sealed record MetricSeries(Guid ProjectId, string Metric, string Branch, string Resolution, int StepSeconds,
        DateTime From, DateTime To, IReadOnlyList<MetricPoint> Points);

    public static RouteGroupBuilder MapMetricSeriesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/metrics", Get).WithTags("Metrics")
            .RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("One metric as a series: raw samples under 2 hours, minute rollups under 3 days, hour rollups beyond");
        return api;
    }

    static async Task<Results<Ok<MetricSeries>, ValidationProblem>> Get(Guid projectId, string? metric, string? branch, string? from,
        string? to, string? step, ClaimsPrincipal user, OpsDatabase db, TimeProvider clock, CancellationToken ct)
    {
        var (query, errors) = MetricSeriesQuery.Parse(metric, branch, from, to, step, clock.GetUtcNow().UtcDateTime);
        if (query is null) return TypedResults.ValidationProblem(errors.Errors);
        return await db.AsUserAsync<Results<Ok<MetricSeries>, ValidationProblem>>(user.UserId(), async (c, t) =>
        {
            if (await MetricSeriesStore.FindBranchAsync(c, t, projectId, query.Branch) is not { } b)
                return TypedResults.ValidationProblem(new Validation().Add("branch", query.Branch is null
                    ? "This project has no production branch: name the branch with ?branch=."
                    : $"This project has no branch named '{query.Branch}'.").Errors);
            var points = await MetricSeriesStore.ReadAsync(c, t, projectId, b.Id, query);
            return TypedResults.Ok(new MetricSeries(projectId, query.Metric, b.Name, query.Resolution.ToString().ToLowerInvariant(),
                (int)query.Step.TotalSeconds, query.From, query.To, points));
        }, ct);
    }
}
