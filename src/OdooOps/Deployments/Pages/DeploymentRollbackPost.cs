using Microsoft.AspNetCore.Components;
using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Deployments.Pages;

/// <summary>
/// The console's side of <see cref="DeploymentRollback"/> for the Deployments page: the rollback dialog's post (which
/// deployment to go back to, and the backup to restore or none), then a redirect to the page with a notice, or the
/// refusal's status and words.
/// </summary>
internal static class DeploymentRollbackPost
{
    public const string FormName = "deployment-rollback";
    public const string KeepDatabase = "none";

    /// <summary>The restore choice: <see cref="KeepDatabase"/>, or a backup's id (the database checks it is the branch's).</summary>
    public static bool TryParseRestore(string? value, out Guid? backupId)
    {
        backupId = null;
        if (value is null or KeepDatabase) return true;
        if (!Guid.TryParse(value, out var id)) return false;
        backupId = id;
        return true;
    }

    public static async Task HandleAsync(HttpContext http, NavigationManager navigation, OpsDatabase db, Guid userId, string? target, string? restore,
        string pageUrl, Func<string, Task> refused)
    {
        if (!Guid.TryParse(target, out var deploymentId) || !TryParseRestore(restore, out var backupId))
        {
            await RefuseAsync(http, StatusCodes.Status400BadRequest, "Choose a deployment to roll back to, and whether to restore a backup.", refused);
            return;
        }
        var actor = Actor.User(userId, http.Connection.RemoteIpAddress);
        switch (await db.AsUserAsync(userId, (c, t) => DeploymentRollback.ApplyAsync(c, t, actor, deploymentId, backupId), http.RequestAborted))
        {
            case DeploymentRollback.Started s:
                navigation.NavigateTo($"{pageUrl}?done=rollback&deployment={s.Rollback.Id}", forceLoad: true); // POST-redirect-GET
                return;
            case DeploymentRollback.Forbidden f: await RefuseAsync(http, StatusCodes.Status403Forbidden, f.Message, refused); return;
            case DeploymentRollback.Conflict c: await RefuseAsync(http, StatusCodes.Status409Conflict, c.Message, refused); return;
            case DeploymentRollback.Invalid i: await RefuseAsync(http, StatusCodes.Status400BadRequest, i.Message, refused); return;
            default: await RefuseAsync(http, StatusCodes.Status404NotFound, "That deployment no longer exists.", refused); return;
        }
    }

    static async Task RefuseAsync(HttpContext http, int status, string message, Func<string, Task> refused)
    {
        http.Response.StatusCode = status;
        await refused(message);
    }
}
