using Microsoft.AspNetCore.Components;
using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Instances.Pages;

/// <summary>
/// The console's side of <see cref="InstanceActions"/> for the instances page and an instance's page: what a posted
/// button asks ("{id}:{action}", of an instance on that page), the confirmation a production stop or restart needs (a
/// post without it shows the confirmation instead of acting), and each outcome: a redirect to the page with a notice,
/// or the refusal's status and words.
/// </summary>
internal static class InstanceActionPost
{
    public const string FormName = "instance-action";

    /// <summary>"{id}:{action}" from a button or a confirmation form; null when it is not one.</summary>
    public static (Guid Id, string Action)? Parse(string? value) =>
        value?.Split(':') is [var id, var action] && Guid.TryParse(id, out var g) && InstanceStore.Actions.Contains(action) ? (g, action) : null;

    public static string Value(Instance instance, string action) => $"{instance.Id}:{action}";

    /// <summary>The confirmation asked for in a page's query (?confirm=…): only of an instance on the page, and only an
    /// action offered that needs one.</summary>
    public static (Instance Instance, string Action)? ConfirmationAsked(Instance? instance, string? action) =>
        instance is not null && action is not null && InstanceDisplay.Offered(instance).Contains(action) && InstanceDisplay.NeedsConfirmation(instance, action)
            ? (instance, action)
            : null;

    /// <summary>
    /// Runs a posted action. Done: redirects to <paramref name="pageUrl"/> with the notice's query. Needs a confirmation:
    /// returns what to confirm. Refused: sets the status and hands the words to <paramref name="refused"/>.
    /// </summary>
    public static async Task<(Instance Instance, string Action)?> HandleAsync(HttpContext http, NavigationManager navigation, OpsDatabase db, Guid userId,
        string? act, string? confirmed, IEnumerable<Instance> onPage, string pageUrl, Func<string, Task> refused)
    {
        if (Parse(act) is not { } asked)
            return await RefuseAsync(http, StatusCodes.Status400BadRequest, "Choose an instance and an action.", refused);
        if (onPage.FirstOrDefault(i => i.Id == asked.Id) is not { } instance)
            return await RefuseAsync(http, StatusCodes.Status404NotFound, "That instance no longer exists.", refused);
        if (InstanceDisplay.NeedsConfirmation(instance, asked.Action) && confirmed != "yes") return (instance, asked.Action);

        var actor = Actor.User(userId, http.Connection.RemoteIpAddress);
        switch (await InstanceActions.RequestAsync(db, actor, instance.Id, asked.Action, http.RequestAborted))
        {
            case InstanceActions.Requested r:
                navigation.NavigateTo($"{pageUrl}?done={asked.Action}&instance={r.Instance.Id}", forceLoad: true); // POST-redirect-GET
                return null;
            case InstanceActions.Refused r:
                return await RefuseAsync(http, StatusCodes.Status403Forbidden, r.Reason, refused);
            case InstanceActions.Retired r:
                return await RefuseAsync(http, StatusCodes.Status409Conflict, r.Reason, refused);
            default:
                return await RefuseAsync(http, StatusCodes.Status404NotFound, "That instance no longer exists.", refused);
        }
    }

    static async Task<(Instance, string)?> RefuseAsync(HttpContext http, int status, string message, Func<string, Task> refused)
    {
        http.Response.StatusCode = status;
        await refused(message);
        return null;
    }

    /// <summary>The notice after a redirect; only fixed words and the name of an instance on the page reach it.</summary>
    public static string? Notice(string? done, Instance? instance) => instance is null ? null : done switch
    {
        "start" => $"Start requested for {instance.Branch}: its runner starts it within seconds.",
        "stop" => $"Stop requested for {instance.Branch}: its runner stops it within seconds.",
        "restart" => $"Restart requested for {instance.Branch}: its runner restarts it within seconds.",
        _ => null,
    };
}
