using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Members;

/// <summary>
/// /api/ops/orgs/{orgId}/members and /api/ops/projects/{projectId}/members — list, add (by email of an existing
/// user), change role, remove. An organisation always keeps at least one owner.
/// </summary>
public static class MembersApi
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

    static void Map(RouteGroupBuilder group, MemberScope scope, string routeKey, Func<string, string> policy)
    {
        Guid Key(HttpContext http) => Guid.Parse((string)http.GetRouteValue(routeKey)!);
        group.MapGet("/", (HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => List(scope, Key(http), user, db, ct))
            .RequireAuthorization(policy("viewer"));
        group.MapPost("/", (AddMember body, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => Add(scope, Key(http), body, user, db, http, ct))
            .RequireAuthorization(policy("admin"), AccessPolicies.Write);
        group.MapPatch("/{userId:guid}", (Guid userId, ChangeRole body, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => Change(scope, Key(http), userId, body, user, db, http, ct))
            .RequireAuthorization(policy("admin"), AccessPolicies.Write);
        group.MapDelete("/{userId:guid}", (Guid userId, HttpContext http, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) => Remove(scope, Key(http), userId, user, db, http, ct))
            .RequireAuthorization(policy("admin"), AccessPolicies.Write);
    }

    static async Task<Ok<MemberList>> List(MemberScope scope, Guid key, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new MemberList(await db.AsUserAsync(user.UserId(), (c, t) => MemberStore.ListAsync(c, t, scope, key), ct)));

    static async Task<Results<Created<Member>, ValidationProblem, ProblemHttpResult>> Add(
        MemberScope scope, Guid key, AddMember body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation().Required("email", body.Email, 320).Required("role", body.Role).OneOf("role", body.Role, scope.Roles);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = user.UserId();
        return await db.AsUserAsync<Results<Created<Member>, ValidationProblem, ProblemHttpResult>>(actor, async (c, t) =>
        {
            if (await MemberStore.FindUserAsync(c, t, body.Email!) is not { } userId)
                return TypedResults.ValidationProblem(new Validation().Add("email", "No active user has this email; create the user first (odooops user create).").Errors);
            if (await MemberStore.GetAsync(c, t, scope, key, userId) is not null)
                return TypedResults.ValidationProblem(new Validation().Add("email", "This user is already a member.").Errors);
            await MemberStore.AddAsync(c, t, scope, key, userId, body.Role!);
            var member = (await MemberStore.GetAsync(c, t, scope, key, userId))!;
            await AuditAsync(c, t, scope, key, actor, "member.add", userId, null, member, http);
            return TypedResults.Created($"{http.Request.Path}/{userId}", member);
        }, ct);
    }

    static async Task<Results<Ok<Member>, ValidationProblem, NotFound, ProblemHttpResult>> Change(
        MemberScope scope, Guid key, Guid userId, ChangeRole body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation().Required("role", body.Role).OneOf("role", body.Role, scope.Roles);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = user.UserId();
        return await db.AsUserAsync<Results<Ok<Member>, ValidationProblem, NotFound, ProblemHttpResult>>(actor, async (c, t) =>
        {
            var before = await MemberStore.GetAsync(c, t, scope, key, userId);
            if (before is null) return TypedResults.NotFound();
            if (scope == MemberScope.Org && before.Role == "owner" && body.Role != "owner" && await MemberStore.OwnerCountAsync(c, t, key) <= 1)
                return TypedResults.Problem("An organisation keeps at least one owner: make someone else owner first.", statusCode: 409, title: "Conflict");
            if (!await MemberStore.SetRoleAsync(c, t, scope, key, userId, body.Role!))
                return TypedResults.Problem("Your role does not allow this change (only owners grant or change the owner role).", statusCode: 403, title: "Forbidden");
            var after = (await MemberStore.GetAsync(c, t, scope, key, userId))!;
            await AuditAsync(c, t, scope, key, actor, "member.role", userId, new { before.Role }, new { after.Role }, http);
            return TypedResults.Ok(after);
        }, ct);
    }

    static async Task<Results<NoContent, NotFound, ProblemHttpResult>> Remove(
        MemberScope scope, Guid key, Guid userId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var actor = user.UserId();
        return await db.AsUserAsync<Results<NoContent, NotFound, ProblemHttpResult>>(actor, async (c, t) =>
        {
            var before = await MemberStore.GetAsync(c, t, scope, key, userId);
            if (before is null) return TypedResults.NotFound();
            if (scope == MemberScope.Org && before.Role == "owner" && await MemberStore.OwnerCountAsync(c, t, key) <= 1)
                return TypedResults.Problem("An organisation keeps at least one owner.", statusCode: 409, title: "Conflict");
            // The audit row goes first: once a member removes themselves, RLS no longer lets them write about it.
            await AuditAsync(c, t, scope, key, actor, "member.remove", userId, before, null, http);
            if (!await MemberStore.RemoveAsync(c, t, scope, key, userId))
                throw RequestRefusedException.Forbidden("Your role does not allow this change.");
            return TypedResults.NoContent();
        }, ct);
    }

    static async Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction t, MemberScope scope, Guid key, Guid actor, string action, Guid target, object? before, object? after, HttpContext http)
    {
        var (orgId, projectId) = scope == MemberScope.Org ? (key, (Guid?)null) : ((await ProjectStore.GetAsync(c, t, key))!.OrgId, key);
        await AuditLog.WriteAsync(c, t, actor, new(orgId, projectId, action, "user", target.ToString(), before, after), http.Connection.RemoteIpAddress);
    }
}
