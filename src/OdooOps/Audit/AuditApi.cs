using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Audit;

/// <summary>/api/ops/orgs/{orgId}/audit — the organisation's audit log, newest first (owners and admins).</summary>
internal static class AuditApi
{
    public sealed record AuditEntry(long Id, Guid OrgId, Guid? ProjectId, Guid? ActorUserId, string? ActorEmail, string Actor, string Action,
        string? TargetType, string? TargetId, string? Before, string? After, string? Ip, DateTime CreatedAt);
    public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextCursor);

    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        api.MapGet("/orgs/{orgId:guid}/audit", List).WithTags("Audit log").RequireAuthorization(AccessPolicies.Org(Role.Admin));
        return api;
    }

    static async Task<Results<Ok<AuditPage>, ValidationProblem>> List(Guid orgId, long? cursor, int? limit, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct)
    {
        if (limit is < 1 or > 500) return TypedResults.ValidationProblem(new Validation().Add("limit", "limit must be between 1 and 500.").Errors);
        var take = limit ?? 100;
        var rows = await db.AsUserAsync(user.UserId(), async (c, t) => (await c.QueryAsync<AuditEntry>("""
            select a.id, a.org_id, a.project_id, a.actor_user_id, u.email as actor_email, a.actor, a.action, a.target_type, a.target_id,
                   a.before::text as before, a.after::text as after, host(a.ip) as ip, a.created_at
              from ops.audit_log a left join registry.users u on u.id = a.actor_user_id
             where a.org_id = @orgId and (@cursor::bigint is null or a.id < @cursor)
             order by a.id desc
             limit @take
            """, new { orgId, cursor, take = take + 1 }, t)).ToList(), ct);
        return TypedResults.Ok(new AuditPage([.. rows.Take(take)], rows.Count > take ? rows[take - 1].Id : null));
    }
}
