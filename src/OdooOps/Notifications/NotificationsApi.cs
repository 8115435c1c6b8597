using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Notifications;

/// <summary>
/// /api/ops/orgs/{orgId}/notification-channels and …/notification-deliveries: an organisation's notification channels
/// and their delivery log, for its owners and admins only — the log shows the receivers' answers and the channels name
/// where the organisation's news goes (as GitHub shows a repository's webhooks to its admins only). Others get 403, other
/// tenants 404. Secrets are write-only: no answer carries one. Changes need write scope and are audited.
/// </summary>
internal static class NotificationsApi
{
    public sealed record ChannelList(IReadOnlyList<NotificationChannel> Channels, IReadOnlyList<NotificationEvents.Info> Events, bool ServerSmtp);
    public sealed record DeliveryList(IReadOnlyList<NotificationDelivery> Deliveries);

    public const int DefaultLimit = 50, MaxLimit = 200;

    public static RouteGroupBuilder MapNotificationsApi(this RouteGroupBuilder api)
    {
        var org = api.MapGroup("/orgs/{orgId:guid}").WithTags("Notifications").RequireAuthorization(AccessPolicies.Org(Role.Admin));
        org.MapGet("/notification-channels", List)
            .WithSummary("The organisation's notification channels (never their secrets) with their state, and the events they may subscribe to");
        org.MapGet("/notification-channels/{channelId:guid}", Get).WithSummary("One notification channel");
        org.MapGet("/notification-channels/{channelId:guid}/deliveries", Deliveries).ProducesValidationProblem()
            .WithSummary("A channel's delivery log, newest first: event, status, attempts, response code, error, next retry (status=pending|delivered|failed|unknown, before=ISO time, limit)");
        org.MapGet("/notification-deliveries/{deliveryId:guid}", Delivery).WithSummary("One delivery");
        var writes = org.MapGroup("").RequireAuthorization(AccessPolicies.Write);
        writes.MapPost("/notification-channels", Create).Produces<NotificationChannel>(StatusCodes.Status201Created).ProducesValidationProblem()
            .WithSummary("Add a channel: {name, kind: webhook|slack|email, url, secret (webhook), recipients (email), smtp (email, optional), events, project_ids, min_severity, enabled}");
        writes.MapPatch("/notification-channels/{channelId:guid}", Update).Produces<NotificationChannel>().ProducesValidationProblem()
            .WithSummary("Change a channel: fields left out keep their value; secrets are kept unless given");
        writes.MapDelete("/notification-channels/{channelId:guid}", Delete).WithSummary("Remove a channel with its delivery log");
        writes.MapPost("/notification-channels/{channelId:guid}/test", Test).Produces<NotificationDelivery>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Send a test notification (notification.test) to the channel now; follow its delivery in the log. A few per channel per 10 minutes (with redeliveries), then 429 with Retry-After");
        writes.MapPost("/notification-deliveries/{deliveryId:guid}/redeliver", Redeliver).Produces<NotificationDelivery>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Send a delivered, failed or unknown delivery again now, with fresh retries (409 while it is still pending). Rationed with the tests: 429 with Retry-After past it");
        return api;
    }

    static async Task<Ok<ChannelList>> List(Guid orgId, ClaimsPrincipal user, OpsDatabase db, NotificationSettings settings, CancellationToken ct) =>
        TypedResults.Ok(new ChannelList(await db.AsUserAsync(user.UserId(), (c, t) => NotificationStore.ListAsync(c, t, orgId), ct),
            NotificationEvents.All, settings.Smtp is not null));

    static async Task<Results<Ok<NotificationChannel>, NotFound>> Get(Guid orgId, Guid channelId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => NotificationStore.GetAsync(c, t, orgId, channelId), ct) is { } channel
            ? TypedResults.Ok(channel)
            : TypedResults.NotFound();

    static async Task<Results<Ok<DeliveryList>, ValidationProblem, NotFound>> Deliveries(Guid orgId, Guid channelId, string? status, DateTime? before,
        int? limit, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation().OneOf("status", status, "pending", "delivered", "failed", "unknown");
        if (limit is < 1 or > MaxLimit) v.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var list = await db.AsUserAsync(user.UserId(), async (c, t) =>
            await NotificationStore.GetAsync(c, t, orgId, channelId) is null ? null
                : await NotificationStore.DeliveriesAsync(c, t, orgId, channelId, status, before?.ToUniversalTime(), limit ?? DefaultLimit), ct);
        return list is null ? TypedResults.NotFound() : TypedResults.Ok(new DeliveryList(list));
    }

    static async Task<Results<Ok<NotificationDelivery>, NotFound>> Delivery(Guid orgId, Guid deliveryId, ClaimsPrincipal user, OpsDatabase db,
        CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => NotificationStore.DeliveryAsync(c, t, orgId, deliveryId), ct) is { } delivery
            ? TypedResults.Ok(delivery)
            : TypedResults.NotFound();

    static async Task<IResult> Create(Guid orgId, ChannelRequest body, ClaimsPrincipal user, NotificationChannels channels, HttpContext http,
        CancellationToken ct) =>
        Answer(await channels.SaveAsync(Actor.Of(user, http), orgId, null, body, ct), orgId, http);

    static async Task<IResult> Update(Guid orgId, Guid channelId, ChannelRequest body, ClaimsPrincipal user, NotificationChannels channels,
        HttpContext http, CancellationToken ct) =>
        Answer(await channels.SaveAsync(Actor.Of(user, http), orgId, channelId, body, ct), null, http);

    static async Task<IResult> Delete(Guid orgId, Guid channelId, ClaimsPrincipal user, NotificationChannels channels, HttpContext http,
        CancellationToken ct) =>
        Answer(await channels.DeleteAsync(Actor.Of(user, http), orgId, channelId, ct), null, http);

    static async Task<IResult> Test(Guid orgId, Guid channelId, ClaimsPrincipal user, NotificationChannels channels, HttpContext http,
        CancellationToken ct) =>
        Answer(await channels.TestAsync(Actor.Of(user, http), orgId, channelId, ct), null, http);

    static async Task<IResult> Redeliver(Guid orgId, Guid deliveryId, ClaimsPrincipal user, NotificationChannels channels, HttpContext http,
        CancellationToken ct) =>
        Answer(await channels.RedeliverAsync(Actor.Of(user, http), orgId, deliveryId, ct), null, http);

    /// <param name="createdIn">Set for a creation: the answer is 201 with the new channel's location.</param>
    static IResult Answer(NotificationChannels.Outcome outcome, Guid? createdIn, HttpContext http) => outcome switch
    {
        NotificationChannels.Outcome.TooMany m => TooMany(m, http),
        NotificationChannels.Outcome.Done d when createdIn is { } org =>
            TypedResults.Created($"/api/ops/orgs/{org}/notification-channels/{d.Channel.Id}", d.Channel),
        NotificationChannels.Outcome.Done d => TypedResults.Ok(d.Channel),
        NotificationChannels.Outcome.Queued q => TypedResults.Json(q.Delivery, statusCode: StatusCodes.Status202Accepted),
        NotificationChannels.Outcome.Removed => TypedResults.NoContent(),
        NotificationChannels.Outcome.Invalid i => TypedResults.ValidationProblem(i.Errors.Errors),
        NotificationChannels.Outcome.Refused r => TypedResults.Problem(r.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
        NotificationChannels.Outcome.Conflict c => TypedResults.Problem(c.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
        _ => TypedResults.Problem("No such notification channel or delivery, or it is not yours to see.", statusCode: StatusCodes.Status404NotFound,
            title: "Not found"),
    };

    static IResult TooMany(NotificationChannels.Outcome.TooMany m, HttpContext http)
    {
        http.Response.Headers.RetryAfter = m.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(m.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many tests and redeliveries");
    }
}
