using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Members;

/// <summary>
/// /api/ops/orgs/{orgId}/members and /api/ops/projects/{projectId}/members — list, add by email (201 with the member
/// for a colleague of the project's organisation, else 202 with an invitation, the same for any email), change role,
/// remove. An organisation always keeps at least one owner.
/// </summary>
internal static class MembersApi
{
    public sealed record MemberList(IReadOnlyList<Member> Members);
    public sealed record AddMember(string? Email, string? Role);
    public sealed record ChangeRole(string? Role);

    public static RouteGroupBuilder MapMembersApi(this RouteGroupBuilder api)
    {
        Map(api.MapGroup("/orgs/{orgId:guid}/members").WithTags("Members"), MemberScope.Org, "orgId", AccessPolicies.Org);
        Map(api.MapGroup("/projects/{projectId:guid}/members").WithTags("Members"), MemberScope.Project, "projectId", AccessPolicies.Project);
        return api;
    }

    static void Map(RouteGroupBuilder group, MemberScope scope, string routeKey, Func<Role, string> policy)
    {
        Guid Key(HttpContext http) => Guid.Parse((string)http.GetRouteValue(routeKey)!);
        group.MapGet("/", (HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => List(scope, Key(http), user, db, ct))
            .RequireAuthorization(policy(Role.Viewer));
        group.MapPost("/", (AddMember body, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => Add(scope, Key(http), body, user, db, http, ct))
            .RequireAuthorization(policy(Role.Admin), AccessPolicies.Write);
        group.MapPatch("/{userId:guid}", (Guid userId, ChangeRole body, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => Change(scope, Key(http), userId, body, user, db, http, ct))
            .RequireAuthorization(policy(Role.Admin), AccessPolicies.Write);
        group.MapDelete("/{userId:guid}", (Guid userId, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => Remove(scope, Key(http), userId, user, db, http, ct))
            .RequireAuthorization(policy(Role.Admin), AccessPolicies.Write);
    }

    static async Task<Ok<MemberList>> List(MemberScope scope, Guid key, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new MemberList(await db.AsUserAsync(user.UserId(), (c, t) => MemberStore.ListAsync(c, t, scope, key), ct)));

    static async Task<Results<Created<Member>, Accepted<Invitation>, ValidationProblem, NotFound, ProblemHttpResult>> Add(
        MemberScope scope, Guid key, AddMember body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = MemberAdmin.ValidAdd(scope, body.Email, body.Role);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<Created<Member>, Accepted<Invitation>, ValidationProblem, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
        {
            var outcome = await MemberAdmin.AddByEmailAsync(c, t, actor, scope, key, body.Email!, Roles.Parse(body.Role)!.Value);
            return outcome switch
            {
                MemberAdmin.Done done => TypedResults.Created($"{http.Request.Path}/{done.Member.UserId}", done.Member),
                MemberAdmin.Invited sent => TypedResults.Accepted($"{InvitationsApi.PlacePath(http)}/{sent.Invitation.Id}", sent.Invitation),
                MemberAdmin.Invalid i => Invalid(i),
                MemberAdmin.Refused r => Refused(r),
                _ => TypedResults.NotFound(),
            };
        }, ct);
    }

    static async Task<Results<Ok<Member>, ValidationProblem, NotFound, ProblemHttpResult>> Change(
        MemberScope scope, Guid key, Guid userId, ChangeRole body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = MemberAdmin.ValidRole(scope, body.Role);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<Ok<Member>, ValidationProblem, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
        {
            var outcome = await MemberAdmin.ChangeRoleAsync(c, t, actor, scope, key, userId, Roles.Parse(body.Role)!.Value);
            return outcome switch
            {
                MemberAdmin.Done done => TypedResults.Ok(done.Member),
                MemberAdmin.Invalid i => Invalid(i),
                MemberAdmin.Refused r => Refused(r),
                _ => TypedResults.NotFound(),
            };
        }, ct);
    }

    static async Task<Results<NoContent, NotFound, ProblemHttpResult>> Remove(
        MemberScope scope, Guid key, Guid userId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<NoContent, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
        {
            var outcome = await MemberAdmin.RemoveAsync(c, t, actor, scope, key, userId);
            return outcome switch
            {
                MemberAdmin.Done => TypedResults.NoContent(),
                MemberAdmin.Refused r => Refused(r),
                _ => TypedResults.NotFound(),
            };
        }, ct);
    }

    static ValidationProblem Invalid(MemberAdmin.Invalid i) => TypedResults.ValidationProblem(new Validation().Add(i.Field, i.Message).Errors);

    static ProblemHttpResult Refused(MemberAdmin.Refused r) =>
        TypedResults.Problem(r.Message, statusCode: r.Status, title: r.Status == 409 ? "Conflict" : "Forbidden");
}
