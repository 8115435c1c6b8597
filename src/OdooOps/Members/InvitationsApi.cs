using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Members;

/// <summary>
/// Invitations. The invitee's side: /api/ops/invitations (their open invitations), …/{id}/accept and …/{id}/decline.
/// The admins' side: /api/ops/orgs/{orgId}/invitations and /api/ops/projects/{projectId}/invitations (list, withdraw);
/// they are sent by adding a member (<see cref="MembersApi"/>).
/// </summary>
internal static class InvitationsApi
{
    public sealed record PendingList(IReadOnlyList<PendingInvitation> Invitations);
    public sealed record InvitationList(IReadOnlyList<Invitation> Invitations);

    public static RouteGroupBuilder MapInvitationsApi(this RouteGroupBuilder api)
    {
        var mine = api.MapGroup("/invitations").WithTags("Members");
        mine.MapGet("/", Mine).WithSummary("Your open invitations to organisations and projects");
        mine.MapPost("/{invitationId:guid}/accept", Accept).RequireAuthorization(AccessPolicies.Write)
            .WithSummary("Accept an invitation: you become a member with its role");
        mine.MapPost("/{invitationId:guid}/decline", Decline).RequireAuthorization(AccessPolicies.Write)
            .WithSummary("Decline an invitation");

        Map(api.MapGroup("/orgs/{orgId:guid}/invitations").WithTags("Members"), MemberScope.Org, "orgId", AccessPolicies.Org);
        Map(api.MapGroup("/projects/{projectId:guid}/invitations").WithTags("Members"), MemberScope.Project, "projectId", AccessPolicies.Project);
        return api;
    }

    /// <summary>/api/ops/orgs/{orgId}/invitations or /api/ops/projects/{projectId}/invitations, for a members request's place.</summary>
    public static string PlacePath(HttpContext http) =>
        http.GetRouteValue("orgId") is string org ? $"/api/ops/orgs/{org}/invitations" : $"/api/ops/projects/{http.GetRouteValue("projectId")}/invitations";

    static void Map(RouteGroupBuilder group, MemberScope scope, string routeKey, Func<Role, string> policy)
    {
        Guid Key(HttpContext http) => Guid.Parse((string)http.GetRouteValue(routeKey)!);
        group.MapGet("/", async (HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
                TypedResults.Ok(new InvitationList(await db.AsUserAsync(user.UserId(), (c, t) => Invitations.ListAsync(c, t, scope, Key(http)), ct))))
            .RequireAuthorization(policy(Role.Admin)).WithSummary("Open invitations (admins)");
        group.MapDelete("/{invitationId:guid}", async Task<Results<NoContent, NotFound>> (Guid invitationId, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
            {
                var actor = Actor.Of(user, http);
                return await db.AsUserAsync(actor.UserId, (c, t) => Invitations.WithdrawAsync(c, t, actor, scope, Key(http), invitationId), ct)
                    ? TypedResults.NoContent()
                    : TypedResults.NotFound();
            })
            .RequireAuthorization(policy(Role.Admin), AccessPolicies.Write).WithSummary("Withdraw an invitation");
    }

    static async Task<Ok<PendingList>> Mine(ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new PendingList(await db.AsUserAsync(user.UserId(), Invitations.MineAsync, ct)));

    static async Task<Ok<Invitations.Joined>> Accept(Guid invitationId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var actor = Actor.Of(user, http);
        return TypedResults.Ok(await db.AsUserAsync(actor.UserId, (c, t) => Invitations.AcceptAsync(c, t, actor, invitationId), ct));
    }

    static async Task<NoContent> Decline(Guid invitationId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var actor = Actor.Of(user, http);
        await db.AsUserAsync(actor.UserId, async (c, t) => { await Invitations.DeclineAsync(c, t, actor, invitationId); return true; }, ct);
        return TypedResults.NoContent();
    }
}
