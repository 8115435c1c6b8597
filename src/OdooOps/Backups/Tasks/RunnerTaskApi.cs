using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Database;
using OdooOps.Runners.Dispatch;
using OdooOps.Server;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Backups.Tasks;

/// <summary>
/// The task and backup calls of the runner protocol (9.–12. in RunnerProtocol.Tasks.cs), behind the runner token like
/// every call but register: a task's heartbeat, log and result, a backup's result, and a production build's pre-deploy
/// backup. Tasks themselves are leased in the instance sync's answer (RunnerTaskStore.ClaimAsync). Lease checks live in
/// the database functions (OOL01 → 409).
/// </summary>
internal static class RunnerTaskApi
{
    static readonly string[] Results = ["succeeded", "failed"];

    public static RouteGroupBuilder MapRunnerTaskCalls(this RouteGroupBuilder v1)
    {
        var calls = v1.MapGroup("").AddEndpointFilter(RunnerDispatchApi.AuthenticateAsync).OwnBodyLimit(); // runner token; log batches run large
        calls.MapPost("/tasks/{taskId:guid}/extend", ExtendAsync).WithSummary("A task's heartbeat: renew its lease; says whether a cancel was requested");
        calls.MapPost("/tasks/{taskId:guid}/logs", LogsAsync).WithSummary("Numbered log lines of a task; a batch sent twice is stored once");
        calls.MapPost("/tasks/{taskId:guid}/done", DoneAsync).WithSummary("A task's result (a verification's verdict with it); ends the lease");
        calls.MapPost("/backups/{backupId:guid}/done", BackupDoneAsync).WithSummary("What a backup holds, checked against the stored file; queues its verification");
        calls.MapPost("/jobs/{buildId:guid}/backups", JobBackupAsync).WithSummary("A production build's pre-deploy backup, before its update");
        return v1;
    }

    static async Task<Results<Ok<Extended>, ValidationProblem>> ExtendAsync(Guid taskId, TaskExtendRequest body, HttpContext http, OpsDatabase db,
        DispatchSettings settings, CancellationToken ct)
    {
        if (body.LeaseId is not { } lease) return LeaseRequired();
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(await RunnerTaskStore.ExtendAsync(conn, RunnerDispatchApi.Runner(http).Id, taskId, lease, settings.LeaseSeconds));
    }

    static async Task<Results<Ok<LogsAccepted>, ValidationProblem>> LogsAsync(Guid taskId, TaskLogsRequest body, HttpContext http, OpsDatabase db,
        DispatchSettings settings, CancellationToken ct)
    {
        if (body.LeaseId is not { } lease) return LeaseRequired();
        var lines = body.Lines ?? [];
        if (RunnerDispatchApi.LogLineErrors(lines) is { } v) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(await RunnerTaskStore.AppendLogsAsync(conn, RunnerDispatchApi.Runner(http).Id, taskId, lease, lines,
            settings.MaxLogLines, settings.MaxLogBytes));
    }

    static async Task<Results<NoContent, ValidationProblem>> DoneAsync(Guid taskId, TaskDoneRequest body, HttpContext http, OpsDatabase db,
        CancellationToken ct)
    {
        if (body.LeaseId is null) return LeaseRequired();
        var v = new Validation().OneOf("result", body.Result ?? "", Results);
        if (body.Detail is { Length: > 4000 }) v.Add("detail", "detail: at most 4000 characters.");
        if (body.Verification is { } verification)
        {
            if (verification.Reason is { Length: > 2000 }) v.Add("verification.reason", "reason: at most 2000 characters.");
            var checks = verification.Checks ?? [];
            if (checks.Count > 100) v.Add("verification.checks", "checks: at most 100.");
            for (var i = 0; i < checks.Count && v.IsValid; i++)
            {
                if (checks[i] is not { Name.Length: > 0 and <= 100 }) v.Add($"verification.checks[{i}].name", "Each check needs a name of at most 100 characters.");
                else if (checks[i].Detail is { Length: > 2000 }) v.Add($"verification.checks[{i}].detail", "detail: at most 2000 characters.");
            }
        }
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        await RunnerTaskStore.FinishAsync(conn, RunnerDispatchApi.Runner(http).Id, taskId, body);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// 204 when recorded; 422 when the facts do not match the file the server stored (the backup is failed then, and the
    /// runner must not count on it: a build does not update, a task reports failed).
    /// </summary>
    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> BackupDoneAsync(Guid backupId, BackupDoneRequest body, HttpContext http,
        OpsDatabase db, CancellationToken ct)
    {
        if (body.LeaseId is null) return LeaseRequired();
        var v = new Validation().OneOf("result", body.Result ?? "", Results);
        if (body.Detail is { Length: > 2000 }) v.Add("detail", "detail: at most 2000 characters.");
        if (body.Result == "succeeded" && body.Facts is null) v.Add("facts", "A succeeded backup reports its facts.");
        if (body.Facts is { } facts) CheckFacts(v, facts);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        string? mismatch;
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            mismatch = await RunnerTaskStore.FinishBackupAsync(conn, RunnerDispatchApi.Runner(http).Id, backupId, body);
        return mismatch is null
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The backup failed", detail: mismatch);
    }

    static void CheckFacts(Validation v, BackupFacts f)
    {
        if (f.SizeBytes < 0) v.Add("facts.size_bytes", "size_bytes must be 0 or more.");
        if (f.Sha256 is null || !RunnerDispatchApi.Sha256Pattern().IsMatch(f.Sha256)) v.Add("facts.sha256", "sha256 must be 64 lower-case hex characters.");
        if (f.DurationMs < 0) v.Add("facts.duration_ms", "duration_ms must be 0 or more.");
        if (f.OdooVersion is null || f.OdooVersion.Length > 64) v.Add("facts.odoo_version", "odoo_version: text of at most 64 characters.");
        if (f.TableCount < 0) v.Add("facts.table_count", "table_count must be 0 or more.");
        if (f.FilestoreFiles < 0) v.Add("facts.filestore_files", "filestore_files must be 0 or more.");
        if (f.FilestoreBytes < 0) v.Add("facts.filestore_bytes", "filestore_bytes must be 0 or more.");
        if (f.FilestoreSha256 is null || !RunnerDispatchApi.Sha256Pattern().IsMatch(f.FilestoreSha256)) v.Add("facts.filestore_sha256", "filestore_sha256 must be 64 lower-case hex characters.");
        var modules = f.Modules ?? [];
        if (modules.Count > 5000) v.Add("facts.modules", "modules: at most 5000.");
        for (var i = 0; i < modules.Count && v.IsValid; i++)
            if (modules[i] is not { Name.Length: > 0 and <= 200, State.Length: > 0 and <= 32 } || modules[i].Version is { Length: > 64 })
                v.Add($"facts.modules[{i}]", "Each module needs a name (at most 200 characters), a state (at most 32) and a version of at most 64.");
    }

    static async Task<Results<Created<JobBackupCreated>, ValidationProblem>> JobBackupAsync(Guid buildId, JobBackupRequest body, HttpContext http,
        OpsDatabase db, CancellationToken ct)
    {
        if (body.LeaseId is not { } lease) return TypedResults.ValidationProblem(new Validation().Add("lease_id", "lease_id (the build's, from jobs/next) is required.").Errors);
        var v = new Validation().OneOf("kind", body.Kind, "pre-deploy");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        var id = await RunnerTaskStore.CreateBuildBackupAsync(conn, RunnerDispatchApi.Runner(http).Id, buildId, lease, body.Kind);
        return TypedResults.Created((string?)null, new JobBackupCreated(id));
    }

    static ValidationProblem LeaseRequired() =>
        TypedResults.ValidationProblem(new Validation().Add("lease_id", "lease_id (the task's or the build's lease) is required.").Errors);
}
