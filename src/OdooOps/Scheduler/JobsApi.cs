using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Scheduler;

/// <summary>
/// /api/ops/jobs — the scheduler's jobs (cron, next tick, last run) and their run history, for system admins only
/// (registry.users.is_system_admin). RLS on ops.job_runs enforces the same rule a second time.
/// </summary>
internal static class JobsApi
{
    public sealed record JobInfo(string Name, string Cron, DateTime? NextRunAt, JobRunStore.JobRun? LastRun);
    public sealed record JobList(IReadOnlyList<JobInfo> Jobs);
    public sealed record RunList(IReadOnlyList<JobRunStore.JobRun> Runs);

    public static RouteGroupBuilder MapJobsApi(this RouteGroupBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Scheduled jobs");
        jobs.MapGet("/", List).WithSummary("The scheduled jobs with their cron, next run and last run (system admins)");
        jobs.MapGet("/runs", Runs).WithSummary("Job runs, newest first; filter by job (system admins)");
        return api;
    }

    static ProblemHttpResult NotAdmin() =>
        TypedResults.Problem("Scheduled jobs are visible to system administrators only.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    static async Task<Results<Ok<JobList>, ProblemHttpResult>> List(
        ClaimsPrincipal user, OpsDatabase db, JobSchedule schedule, TimeProvider time, CancellationToken ct)
    {
        var lastRuns = await db.AsUserAsync(user.UserId(), async (c, t) =>
            await IsSystemAdminAsync(c, t) ? await JobRunStore.LastRunsAsync(c, t) : null, ct);
        if (lastRuns is null) return NotAdmin();
        var now = time.GetUtcNow();
        return TypedResults.Ok(new JobList([.. schedule.Entries.Select(e =>
            new JobInfo(e.Job.Name, e.Cron, e.NextAfter(now)?.UtcDateTime, lastRuns.GetValueOrDefault(e.Job.Name)))]));
    }

    static async Task<Results<Ok<RunList>, ValidationProblem, ProblemHttpResult>> Runs(
        string? job, int? limit, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        if (limit is < 1 or > 500) return TypedResults.ValidationProblem(new Validation().Add("limit", "limit must be between 1 and 500.").Errors);
        var name = string.IsNullOrWhiteSpace(job) ? null : job.Trim();
        var runs = await db.AsUserAsync(user.UserId(), async (c, t) =>
            await IsSystemAdminAsync(c, t) ? await JobRunStore.ListAsync(c, t, name, limit ?? 50) : null, ct);
        return runs is null ? NotAdmin() : TypedResults.Ok(new RunList(runs));
    }

    static Task<bool> IsSystemAdminAsync(Npgsql.NpgsqlConnection c, Npgsql.NpgsqlTransaction t) =>
        c.ExecuteScalarAsync<bool>("select ops.is_system_admin()", transaction: t);
}
