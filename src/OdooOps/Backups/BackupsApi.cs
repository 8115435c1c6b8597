using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Backups.Storage;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Backups;

/// <summary>
/// /api/ops/projects/{projectId}/backups (a project's or a branch's backups), …/branches/{branchId}/backups (take one,
/// import one), /api/ops/backups/{backupId}[/restore|verify|download] and /api/ops/backups/tasks/{taskId}/cancel. Routes
/// that name no project read the backup or task as the caller, so RLS decides and another tenant's is a 404. Who may act
/// is the database's rule (ops.backup_role: admin on production, tester on staging and development); every act is
/// audited. Queued work answers 202.
/// </summary>
internal static class BackupsApi
{
    public sealed record BackupList(IReadOnlyList<Backup> Backups);
    public sealed record BackupDetail(Backup Backup, IReadOnlyList<BackupTask> Tasks);
    public sealed record TaskQueued(Backup Backup, BackupTask Task, Backup? PreRestore);
    public sealed record TaskCancelled(Backup Backup, BackupTask Task);
    public sealed record RestoreRequest(Guid? BranchId, string? Confirm);

    public const int DefaultLimit = 100, MaxLimit = 500;


    public static RouteGroupBuilder MapBackupsApi(this RouteGroupBuilder api)
    {
        api.MapGroup("/projects/{projectId:guid}/backups").WithTags("Backups")
            .RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .MapGet("/", List).ProducesValidationProblem()
            .WithSummary("A project's backups (one branch's with branch_id), newest first: kind, status, size, verified or why not, modules, who; pruned ones with include_pruned=true");

        var branch = api.MapGroup("/projects/{projectId:guid}/branches/{branchId:guid}/backups").WithTags("Backups")
            .RequireAuthorization(AccessPolicies.Project(Role.Tester), AccessPolicies.Write);
        branch.MapPost("/", Create).Produces<Backup>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Take a manual backup of the branch now (admin on production, tester elsewhere); at most 5 a day per branch, then 429 with Retry-After");
        branch.MapPost("/import", Import).Accepts<Stream>("application/zip").Produces<Backup>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Import a backup zip (Odoo's: dump.sql, filestore/, manifest.json; or OdooOps' own) as the body, streamed; it is verified next. Restore it to use it");

        var one = api.MapGroup("/backups/{backupId:guid}").WithTags("Backups");
        one.MapGet("/", Get).WithSummary("One backup with its tasks (taking it, verifying it, restores from it) and their logs");
        var acts = one.MapGroup("").RequireAuthorization(AccessPolicies.Write);
        acts.MapPost("/restore", Restore).Produces<TaskQueued>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .WithSummary("Restore into a branch of the project {\"branch_id\", \"confirm\"}: production (admin) needs confirm = its name and takes a pre-restore backup first; staging and development (tester) are neutralised");
        acts.MapPost("/verify", Verify).Produces<TaskQueued>(StatusCodes.Status202Accepted)
            .WithSummary("Verify the backup again: a runner restores it into a scratch database, checks it and drops it");
        acts.MapPost("/download", Download).Produces<DownloadLink>()
            .WithSummary("A short-lived signed link to the backup as Odoo's zip (dump.sql, filestore/, manifest.json); audited");

        api.MapGroup("/backups/tasks/{taskId:guid}").WithTags("Backups").RequireAuthorization(AccessPolicies.Write)
            .MapPost("/cancel", CancelTask).Produces<TaskCancelled>().Produces<TaskCancelled>(StatusCodes.Status202Accepted)
            .WithSummary("Cancel a backup's queued or running task (backup, verify, restore): a queued one is cancelled (200), a running one's runner is asked to stop it (202, cancel_requested); who may start that task may cancel it; an ended one is 409");
        return api;
    }

    static async Task<Results<Ok<BackupList>, ValidationProblem, NotFound>> List(Guid projectId, string? branch_id, bool? include_pruned, int? limit,
        ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        Guid? branchId = null;
        if (branch_id is not null)
        {
            if (Guid.TryParse(branch_id, out var id)) branchId = id;
            else v.Add("branch_id", "branch_id must be a branch's id.");
        }
        if (limit is < 1 or > MaxLimit) v.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var list = await db.AsUserAsync(user.UserId(), async (c, t) =>
            branchId is { } b && await Branches.BranchStore.GetAsync(c, t, projectId, b) is null
                ? null
                : await BackupStore.ListAsync(c, t, projectId, branchId, include_pruned ?? false, limit ?? DefaultLimit), ct);
        return list is null
            ? TypedResults.ValidationProblem(v.Add("branch_id", "No such branch in this project.").Errors)
            : TypedResults.Ok(new BackupList(list));
    }

    static async Task<Results<Ok<BackupDetail>, NotFound>> Get(Guid backupId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), async (c, t) =>
            await BackupStore.GetAsync(c, t, backupId) is { } backup ? new BackupDetail(backup, await BackupStore.TasksAsync(c, t, backupId)) : null, ct) is { } detail
            ? TypedResults.Ok(detail)
            : TypedResults.NotFound();

    static async Task<IResult> Create(Guid projectId, Guid branchId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
        Answer(await BackupRequests.BackupAsync(db, Actor.Of(user, http), projectId, branchId, ct), http);

    static async Task<IResult> Restore(Guid backupId, RestoreRequest body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (body.BranchId is not { } branchId)
            return TypedResults.ValidationProblem(new Validation().Add("branch_id", "branch_id (the branch to restore into) is required.").Errors);
        return Answer(await BackupRequests.RestoreAsync(db, Actor.Of(user, http), backupId, branchId, body.Confirm, ct), http);
    }

    static async Task<IResult> Verify(Guid backupId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
        Answer(await BackupRequests.VerifyAsync(db, Actor.Of(user, http), backupId, ct), http);

    static async Task<IResult> Download(Guid backupId, ClaimsPrincipal user, OpsDatabase db, BackupLinks links, WebSettings web, HttpContext http,
        CancellationToken ct) =>
        Answer(await BackupDownload.LinkAsync(db, links, web, Actor.Of(user, http), backupId, http.Request, ct), http);

    static async Task<IResult> CancelTask(Guid taskId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
        Answer(await BackupRequests.CancelTaskAsync(db, Actor.Of(user, http), taskId, ct), http);

    static async Task<IResult> Import(Guid projectId, Guid branchId, ClaimsPrincipal user, OpsDatabase db, BackupImport import, HttpContext http,
        CancellationToken ct)
    {
        if (http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.TransferEncoding.Any()))
            return TypedResults.ValidationProblem(new Validation().Add(BackupImportUpload.FileField, "The body must be the backup zip (Content-Type: application/zip).").Errors);
        import.AcceptLargeBody(http); // up to OPS_BACKUP_MAX_GB; a body that says it is larger is 413 at once
        return Answer(await BackupImportUpload.ImportAsync(db, import, Actor.Of(user, http), projectId, branchId, http.Request.Body, ct), http);
    }

    /// <summary>An outcome as the API answers it: 202 with what was queued, 200 with a link, or the refusal.</summary>
    static IResult Answer(BackupOutcome outcome, HttpContext http)
    {
        switch (outcome)
        {
            case BackupOutcome.Queued q: return TypedResults.Json(q.Backup, statusCode: StatusCodes.Status202Accepted);
            case BackupOutcome.TaskQueued q:
                return TypedResults.Json(new TaskQueued(q.Backup, q.Task, q.PreRestore), statusCode: StatusCodes.Status202Accepted);
            case BackupOutcome.Link l: return TypedResults.Ok(l.Download);
            case BackupOutcome.TaskCancelled c:
                return TypedResults.Json(new TaskCancelled(c.Backup, c.Task),
                    statusCode: c.Task.Status == "cancelled" ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
            case BackupOutcome.Invalid i: return TypedResults.ValidationProblem(new Validation().Add(i.Field, i.Message).Errors);
            case BackupOutcome.Refused r: return TypedResults.Problem(r.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
            case BackupOutcome.Conflict c: return TypedResults.Problem(c.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict");
            case BackupOutcome.TooMany m:
                http.Response.Headers.RetryAfter = m.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(m.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many backups");
            case BackupOutcome.TooLarge l: return TypedResults.Problem(l.Message, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");
            case BackupOutcome.Unavailable:
                // The cause (bucket, endpoint) is for the server's log, as the storage's own answers keep it.
                http.Response.Headers.RetryAfter = BackupStorageErrorHandler.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem($"The backup storage cannot be used right now; try again in {BackupStorageErrorHandler.RetryAfterSeconds} s.",
                    statusCode: StatusCodes.Status503ServiceUnavailable, title: "Backup storage unavailable");
            default:
                return TypedResults.Problem("No such backup, branch or task, or it is not yours to see.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
    }
}
