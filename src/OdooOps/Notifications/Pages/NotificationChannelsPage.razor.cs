using Microsoft.AspNetCore.Components;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Orgs;
using OdooOps.Ui;

namespace OdooOps.Notifications.Pages;

/// <summary>
/// /app/settings/notifications: the current organisation's channels with their state (ok, failing since …), adding one
/// of each kind, changing, removing (confirmed), sending a test, and a channel's delivery log with Redeliver — plain form
/// posts through the same use case as the API (<see cref="NotificationChannels"/>), then a redirect with a notice.
/// Owners and admins only, as in the API; others see why.
/// </summary>
public partial class NotificationChannelsPage
{
    const string PageUrl = "app/settings/notifications";

    [CascadingParameter] HttpContext HttpContext { get; set; } = default!;
    // Strings, not Guids: a mangled link shows the page, and only the organisation's own channels are ever picked.
    [SupplyParameterFromQuery(Name = "add")] string? Add { get; set; }
    [SupplyParameterFromQuery(Name = "edit")] string? Edit { get; set; }
    [SupplyParameterFromQuery(Name = "channel")] string? LogOf { get; set; }
    [SupplyParameterFromQuery(Name = "delete")] string? Delete { get; set; }
    [SupplyParameterFromQuery(Name = "done")] string? Done { get; set; }
    [SupplyParameterFromForm(FormName = "channel-action")] string? TestId { get; set; }
    [SupplyParameterFromForm(FormName = "channel-delete")] string? DeleteId { get; set; }
    [SupplyParameterFromForm(FormName = "delivery-action")] string? Redeliver { get; set; }

    OrgMembership? _org;
    Guid _userId;
    IReadOnlyList<NotificationChannel> _channels = [];
    IReadOnlyList<(Guid Id, string Name, string Slug)> _projects = [];
    IReadOnlyList<NotificationDelivery> _deliveries = [];
    NotificationChannel? _editing, _logOf, _confirmDelete;
    string? _error;

    bool IsAdmin => _org is not null && _org.Role.AtLeast(Role.Admin);
    string? AddKind => Add is { } k && NotificationEvents.Kinds.Contains(k) ? k : null;
    NotificationChannel? Find(string? id) => _channels.FirstOrDefault(c => c.Id.ToString() == id);

    // Only fixed words and the organisation's own channel names reach the page from the query string.
    string? Notice => (Done, Find(LogOf)?.Name) switch
    {
        ("added", { } name) => $"{name} is added. Send a test to see it work.",
        ("saved", { } name) => $"{name} is saved.",
        ("test", { } name) => $"A test notification is on its way to {name}: it shows in the log below.",
        ("redelivered", { } name) => $"The delivery is sent to {name} again: it shows in the log below.",
        ("removed", _) => "The channel is removed.",
        _ => null,
    };

    protected override async Task OnInitializedAsync()
    {
        if (await Console.GetAsync() is not { CurrentOrg: { } org } state) return;
        (_org, _userId) = (org, state.UserId);
        if (!IsAdmin)
        {
            PageStatus.SetWhenSent(HttpContext, StatusCodes.Status403Forbidden);
            return;
        }
        await LoadAsync();
    }

    async Task LoadAsync()
    {
        (_channels, _projects) = await Db.AsUserAsync(_userId, async (c, t) =>
            (await NotificationStore.ListAsync(c, t, _org!.Id), await NotificationStore.ProjectsAsync(c, t, _org.Id)), HttpContext.RequestAborted);
        _editing = AddKind is null ? Find(Edit) : null;
        _confirmDelete = Find(Delete);
        _logOf = Find(LogOf);
        if (_logOf is not null)
            _deliveries = await Db.AsUserAsync(_userId, (c, t) => NotificationStore.DeliveriesAsync(c, t, _org!.Id, _logOf.Id, null, null, 50),
                HttpContext.RequestAborted);
    }

    Actor Actor => Actor.User(_userId, HttpContext.Connection.RemoteIpAddress);

    async Task ActAsync()
    {
        if (_org is null || !Guid.TryParse(TestId, out var id)) { await RefuseAsync(StatusCodes.Status400BadRequest, "Choose a channel."); return; }
        await AnswerAsync(await Channels.TestAsync(Actor, _org.Id, id, HttpContext.RequestAborted), $"{PageUrl}?channel={id}&done=test#deliveries");
    }

    async Task DeleteAsync()
    {
        if (_org is null || !Guid.TryParse(DeleteId, out var id)) { await RefuseAsync(StatusCodes.Status400BadRequest, "Choose a channel."); return; }
        await AnswerAsync(await Channels.DeleteAsync(Actor, _org.Id, id, HttpContext.RequestAborted), $"{PageUrl}?done=removed");
    }

    async Task RedeliverAsync()
    {
        if (_org is null || !Guid.TryParse(Redeliver, out var id)) { await RefuseAsync(StatusCodes.Status400BadRequest, "Choose a delivery."); return; }
        var outcome = await Channels.RedeliverAsync(Actor, _org.Id, id, HttpContext.RequestAborted);
        var channel = outcome is NotificationChannels.Outcome.Queued q ? q.Delivery.ChannelId : Guid.Empty;
        await AnswerAsync(outcome, $"{PageUrl}?channel={channel}&done=redelivered#deliveries");
    }

    async Task AnswerAsync(NotificationChannels.Outcome outcome, string then)
    {
        switch (outcome)
        {
            case NotificationChannels.Outcome.Queued or NotificationChannels.Outcome.Removed:
                Navigation.NavigateTo(then, forceLoad: true); // POST-redirect-GET
                return;
            case NotificationChannels.Outcome.Refused r: await RefuseAsync(StatusCodes.Status403Forbidden, r.Message); return;
            case NotificationChannels.Outcome.Conflict c: await RefuseAsync(StatusCodes.Status409Conflict, c.Message); return;
            case NotificationChannels.Outcome.TooMany m:
                HttpContext.Response.Headers.RetryAfter = m.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await RefuseAsync(StatusCodes.Status429TooManyRequests, m.Message);
                return;
            default: await RefuseAsync(StatusCodes.Status404NotFound, "That channel or delivery no longer exists; nothing was changed."); return;
        }
    }

    async Task RefuseAsync(int status, string message)
    {
        PageStatus.SetWhenSent(HttpContext, status);
        _error = message;
        _confirmDelete = null;
        if (IsAdmin) await LoadAsync(); // as it is now
        _confirmDelete = null;
    }
}
