using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Backups.Tasks;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Server;
using static OdooOps.Runners.Protocol.RunnerProtocol;
using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Dispatch;

/// <summary>
/// The server's half of <see cref="RunnerProtocol"/>: /api/runner/v1. Not behind the console/API authentication: a
/// group filter authenticates the runner token (Bearer oo_run_…) for every call but register, and fails closed.
/// Lease checks live in the database functions (SQLSTATE OOL01 → 409 through DatabaseErrorHandler).
/// </summary>
internal static partial class RunnerDispatchApi
{
    const string RunnerItem = "ops.runner";

    public static IEndpointRouteBuilder MapRunnerDispatchApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup(Base).WithTags("Runner protocol");
        v1.MapPost("/register", RegisterAsync).WithSummary("Exchange an org admin's registration token for a runner token");

        var jobs = v1.MapGroup("/jobs").AddEndpointFilter(AuthenticateAsync).OwnBodyLimit(); // runner token; log batches run large
        jobs.MapPost("/next", NextAsync).WithSummary("Long poll (up to 30 s) for leased jobs within the runner's free capacity");
        jobs.MapPost("/{buildId:guid}/extend", ExtendAsync).WithSummary("Heartbeat: renew the lease; says whether a cancel was requested");
        jobs.MapPost("/{buildId:guid}/source", SourceAsync).WithSummary("The commit checked out and the Odoo modules found");
        jobs.MapPost("/{buildId:guid}/logs", LogsAsync).WithSummary("Numbered log lines; a batch sent twice is stored once; cut: the log keeps no more lines");
        jobs.MapPost("/{buildId:guid}/steps/{seq:int}", StepAsync).WithSummary("A step started or finished");
        jobs.MapPost("/{buildId:guid}/done", DoneAsync).WithSummary("The build's result; ends the lease");
        jobs.MapPost("/{buildId:guid}/release", ReleaseAsync).WithSummary("A stopping runner hands the build back: queued again at once, the attempt not counted");
        MapInstanceCalls(v1);
        v1.MapRunnerTaskCalls();
        return app;
    }

    /// <summary>The runner token check of every call but register (also the backup artifact calls of Backups/Storage).</summary>
    internal static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var http = ctx.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (token.StartsWith(RunnerTokenPrefix, StringComparison.Ordinal))
        {
            var db = http.RequestServices.GetRequiredService<OpsDatabase>();
            await using var conn = await db.Service.OpenConnectionAsync(http.RequestAborted);
            if (await DispatchStore.AuthenticateAsync(conn, AccessTokens.Hash(token)) is { } runner)
            {
                http.Items[RunnerItem] = runner;
                return await next(ctx);
            }
        }
        return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "A valid runner token (Bearer oo_run_…) is required.");
    }

    internal static DispatchStore.RunnerIdentity Runner(HttpContext http) => (DispatchStore.RunnerIdentity)http.Items[RunnerItem]!;

    static async Task<Results<Created<Registered>, ValidationProblem, ProblemHttpResult>> RegisterAsync(RegisterRequest body, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation().Required("registration_token", body.RegistrationToken, 200).Required("name", body.Name);
        var labels = body.Labels ?? [];
        if (RunnerLabelRules.Validate(labels) is { } problem) v.Add("labels", problem);
        if (body.Capacity is < 1 or > 64) v.Add("capacity", "capacity must be between 1 and 64.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        if (!body.RegistrationToken!.StartsWith(RegistrationTokenPrefix, StringComparison.Ordinal))
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "Unknown, expired or revoked registration token.");

        var token = AccessTokens.Create(RunnerTokenPrefix);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        var id = await DispatchStore.RegisterAsync(conn, AccessTokens.Hash(body.RegistrationToken), body.Name!.Trim(), [.. labels.Distinct()],
            body.Capacity ?? 1, body.Version?[..Math.Min(body.Version.Length, 100)], AccessTokens.Hash(token));
        return TypedResults.Created((string?)null, new Registered(id, token));
    }

    static async Task<Results<Ok<NextResponse>, NoContent, ValidationProblem>> NextAsync(NextRequest? body, HttpContext http, OpsDatabase db,
        PgNotifications notifications, DispatchSettings settings, TimeProvider clock, IHostApplicationLifetime lifetime,
        RepoSettings repos, RepoCredentialProtector protector, EnvVars.EnvSecretBox secrets, Instances.InstanceUrls urls, CancellationToken ct)
    {
        var v = new Validation();
        if (body?.Max is < 1 or > 64) v.Add("max", "max must be between 1 and 64.");
        if (body?.WaitSeconds is < 0 or > MaxWaitSeconds) v.Add("wait_seconds", $"wait_seconds must be between 0 and {MaxWaitSeconds}.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var runner = Runner(http);
        var lease = settings.LeaseSeconds;
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(body?.WaitSeconds ?? MaxWaitSeconds);
        while (true)
        {
            var enqueued = notifications.Next(PgNotifications.RunQueue); // before the claim, so an enqueue in between wakes us
            await using (var conn = await db.Service.OpenConnectionAsync(ct))
            {
                var jobs = await DispatchStore.ClaimAsync(conn, runner.Id, body?.Max ?? 1, lease);
                var ready = new List<Job>(jobs.Count);
                foreach (var claimed in jobs)
                {
                    var (job, stored) = await DispatchStore.CompleteAsync(conn, runner.Id, claimed.Job, (branch, project) => urls.For(http.Request, branch, project));
                    switch (JobVetting.Vet(job, claimed.SealedEnv, stored, repos, protector, secrets))
                    {
                        case ({ } go, _): ready.Add(go); break;
                        case (null, var refusal):
                            await DispatchStore.FinishAsync(conn, runner.Id, job.BuildId, new DoneRequest(job.LeaseId, "failed", refusal));
                            await WakeLogStreamsAsync(http, notifications, job.BuildId);
                            break;
                    }
                }
                if (ready.Count > 0) return TypedResults.Ok(new NextResponse(ready));
                if (jobs.Count > 0) continue; // all refused: the queue has moved on, look again at once
            }
            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero) return TypedResults.NoContent();
            // A runner busy at capacity, or a build it may not take, gets no NOTIFY of its own: re-check now and then.
            // A stopping server answers at once: otherwise it would wait up to 30 s for its held polls to drain.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
            try { await PgNotifications.WaitAsync(enqueued, left < SlowPoll ? left : SlowPoll, wait.Token); }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested) { return TypedResults.NoContent(); }
        }
    }

    static readonly TimeSpan SlowPoll = TimeSpan.FromSeconds(5);

    static async Task<Results<Ok<Extended>, ValidationProblem>> ExtendAsync(Guid buildId, ExtendRequest body, HttpContext http, OpsDatabase db,
        DispatchSettings settings, CancellationToken ct)
    {
        if (body.LeaseId is not { } lease) return LeaseRequired();
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(await DispatchStore.ExtendAsync(conn, Runner(http).Id, buildId, lease, settings.LeaseSeconds));
    }

    static async Task<Results<NoContent, ValidationProblem>> SourceAsync(Guid buildId, SourceRequest body, HttpContext http, OpsDatabase db, CancellationToken ct)
    {
        if (body.LeaseId is null) return LeaseRequired();
        var v = new Validation();
        if (body.CommitSha is not null && !ShaPattern().IsMatch(body.CommitSha)) v.Add("commit_sha", "commit_sha must be 4 to 64 lower-case hex characters.");
        if (body.RequirementsSha256 is not null && !Sha256Pattern().IsMatch(body.RequirementsSha256))
            v.Add("requirements_sha256", "requirements_sha256 must be 64 lower-case hex characters.");
        var modules = body.Modules ?? [];
        if (modules.Count > 2000) v.Add("modules", "modules: at most 2000.");
        for (var i = 0; i < modules.Count && v.IsValid; i++)
            if (modules[i] is not { Name.Length: > 0 and <= 200 }) v.Add($"modules[{i}].name", "Each module needs a name of at most 200 characters.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        await DispatchStore.RecordSourceAsync(conn, Runner(http).Id, buildId, body);
        return TypedResults.NoContent();
    }

    static async Task<Results<Ok<LogsAccepted>, ValidationProblem>> LogsAsync(Guid buildId, LogsRequest body, HttpContext http, OpsDatabase db,
        DispatchSettings settings, CancellationToken ct)
    {
        if (body.LeaseId is not { } lease) return LeaseRequired();
        var lines = body.Lines ?? [];
        if (LogLineErrors(lines) is { } v) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(await DispatchStore.AppendLogsAsync(conn, Runner(http).Id, buildId, lease, lines, settings.MaxLogLines, settings.MaxLogBytes));
    }

    static async Task<Results<NoContent, ValidationProblem>> StepAsync(Guid buildId, int seq, StepRequest body, HttpContext http, OpsDatabase db, CancellationToken ct)
    {
        if (body.LeaseId is null) return LeaseRequired();
        var v = new Validation().Required("name", body.Name).OneOf("status", body.Status ?? "", StepStatuses);
        if (seq is < 0 or > 1000) v.Add("seq", "seq must be between 0 and 1000.");
        if (body.DurationMs is < 0) v.Add("duration_ms", "duration_ms must be 0 or more.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        await DispatchStore.ReportStepAsync(conn, Runner(http).Id, buildId, seq, body);
        return TypedResults.NoContent();
    }

    static async Task<Results<NoContent, ValidationProblem>> DoneAsync(Guid buildId, DoneRequest body, HttpContext http, OpsDatabase db,
        PgNotifications notifications, CancellationToken ct)
    {
        if (body.LeaseId is null) return LeaseRequired();
        var v = new Validation().OneOf("result", body.Result ?? "", BuildResults);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            await DispatchStore.FinishAsync(conn, Runner(http).Id, buildId, body);
        await WakeLogStreamsAsync(http, notifications, buildId);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Log streams of a finished build end now rather than at the watcher's next round (ops.finish_build_job: the finish itself no
    /// longer notifies). The result is in either way: a failed wake-up must not make the runner report it again.
    /// </summary>
    static async Task WakeLogStreamsAsync(HttpContext http, PgNotifications notifications, Guid buildId)
    {
        try { await notifications.NotifyAsync(PgNotifications.BuildLogs, buildId.ToString(), CancellationToken.None); }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            http.RequestServices.GetRequiredService<ILogger<PgNotifications>>().LogWarning(
                "Build {BuildId} finished, but its log streams could not be woken ({Message}); the watcher wakes them at its next round.", buildId, e.Message);
        }
    }

    static async Task<Results<Ok<Released>, ValidationProblem>> ReleaseAsync(Guid buildId, ReleaseRequest body, HttpContext http, OpsDatabase db,
        CancellationToken ct)
    {
        if (body.LeaseId is null) return LeaseRequired();
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(new Released(await DispatchStore.ReleaseAsync(conn, Runner(http).Id, buildId, body with { Reason = body.Reason?.Trim() })));
    }

    /// <summary>A batch of numbered log lines (a build's or a task's) as the protocol allows it; null when it is.</summary>
    internal static Validation? LogLineErrors(IReadOnlyList<LogLine> lines)
    {
        var v = new Validation();
        if (lines.Count is 0 or > MaxLinesPerBatch) v.Add("lines", $"lines must hold 1 to {MaxLinesPerBatch} lines.");
        for (var i = 0; i < lines.Count && v.IsValid; i++)
        {
            var l = lines[i];
            if (l.Seq < 0) v.Add($"lines[{i}].seq", "seq must be 0 or more.");
            if (l.Stream is not ("stdout" or "stderr" or "system")) v.Add($"lines[{i}].stream", "stream must be stdout, stderr or system.");
            if (l.Line is null || l.Line.Length > MaxLineChars)
                v.Add($"lines[{i}].line", $"line must be text of at most {MaxLineChars} characters.");
        }
        return v.IsValid ? null : v;
    }

    static ValidationProblem LeaseRequired() => TypedResults.ValidationProblem(new Validation().Add("lease_id", "lease_id (from jobs/next) is required.").Errors);

    [GeneratedRegex("^[0-9a-f]{4,64}$")]
    private static partial Regex ShaPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    internal static partial Regex Sha256Pattern();
}
