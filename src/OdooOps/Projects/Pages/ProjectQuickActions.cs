using Microsoft.AspNetCore.Components;
using OdooOps.Audit;
using OdooOps.Backups;
using OdooOps.Builds;
using OdooOps.Database;

namespace OdooOps.Projects.Pages;

/// <summary>
/// The overview page's quick actions on production, through the same use cases as the API: a build of its branch head
/// (<see cref="BuildTrigger"/>, as <c>POST /api/ops/builds</c>) and a backup now (<see cref="BackupRequests"/>, as
/// <c>POST …/backups</c>). Success redirects to the build or the backups page; a refusal sets the status and returns the
/// words to show.
/// </summary>
internal static class ProjectQuickActions
{
    public const string FormName = "project-quick-action";
    public const string Build = "build", Backup = "backup";

    public static async Task<string?> HandleAsync(HttpContext http, NavigationManager navigation, OpsDatabase db, BuildTrigger trigger, Guid userId,
        ProjectSummary project, string? action)
    {
        var actor = Actor.User(userId, http.Connection.RemoteIpAddress);
        var projectUrl = $"app/projects/{Uri.EscapeDataString(project.Slug)}";
        if (project.ProductionBranchId is not { } production)
            return Refuse(http, StatusCodes.Status409Conflict, "This project has no production branch yet: move a branch to production first.");
        switch (action)
        {
            case Build:
                var outcome = await db.AsUserAsync(userId, (c, t) => trigger.TriggerAsync(c, t, actor,
                    new BuildTrigger.Request(project.Id, production, null, null), "manual"), http.RequestAborted);
                switch (outcome)
                {
                    case BuildTrigger.Queued q: navigation.NavigateTo($"{projectUrl}/builds/{q.Build.Id}", forceLoad: true); return null;
                    case BuildTrigger.AlreadyQueued a: navigation.NavigateTo($"{projectUrl}/builds/{a.Build.Id}", forceLoad: true); return null;
                    case BuildTrigger.Refused r: return Refuse(http, StatusCodes.Status403Forbidden, r.Reason);
                    case BuildTrigger.TooMany m:
                        return Refuse(http, StatusCodes.Status429TooManyRequests, $"This project already has {m.Queued} queued builds; wait for some to run or cancel them.");
                    default: return Refuse(http, StatusCodes.Status404NotFound, "The production branch no longer exists.");
                }
            case Backup:
                switch (await BackupRequests.BackupAsync(db, actor, project.Id, production, http.RequestAborted))
                {
                    case BackupOutcome.Queued q: navigation.NavigateTo($"{projectUrl}/backups?done=create&backup={q.Backup.Id}", forceLoad: true); return null;
                    case BackupOutcome.Refused r: return Refuse(http, StatusCodes.Status403Forbidden, r.Message);
                    case BackupOutcome.Conflict c: return Refuse(http, StatusCodes.Status409Conflict, c.Message);
                    case BackupOutcome.Invalid i: return Refuse(http, StatusCodes.Status400BadRequest, i.Message);
                    case BackupOutcome.TooMany m:
                        http.Response.Headers.RetryAfter = m.RetryAfterSeconds.ToString();
                        return Refuse(http, StatusCodes.Status429TooManyRequests, m.Message);
                    case BackupOutcome.Unavailable:
                        http.Response.Headers.RetryAfter = OdooOps.Backups.Storage.BackupStorageErrorHandler.RetryAfterSeconds.ToString();
                        return Refuse(http, StatusCodes.Status503ServiceUnavailable, "The backup storage cannot be used right now; try again in a minute.");
                    default: return Refuse(http, StatusCodes.Status404NotFound, "The production branch no longer exists.");
                }
            default:
                return Refuse(http, StatusCodes.Status400BadRequest, "Choose an action: build production or back it up.");
        }
    }

    static string Refuse(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        return message;
    }
}
