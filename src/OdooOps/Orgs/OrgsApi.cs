using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Orgs;

/// <summary>/api/ops/orgs — the caller's organisations and their role in each.</summary>
internal static class OrgsApi
{
    public sealed record OrgList(IReadOnlyList<OrgMembership> Orgs);

    public static RouteGroupBuilder MapOrgsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/orgs", List).WithTags("Organisations");
        return api;
    }

    static async Task<Ok<OrgList>> List(ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new OrgList(await db.AsUserAsync(user.UserId(), OrgStore.ListAsync, ct)));
}
