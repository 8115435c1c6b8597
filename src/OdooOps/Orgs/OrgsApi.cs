using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Orgs;

/// <summary>
/// /api/ops/orgs — the caller's organisations and their role in each; /api/ops/orgs/{id}: one organisation's settings
/// (members read them; owners and admins change the name, slug and default Odoo version, audited).
/// </summary>
internal static class OrgsApi
{
    public sealed record OrgList(IReadOnlyList<OrgMembership> Orgs);

    public static RouteGroupBuilder MapOrgsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/orgs", List).WithTags("Organisations");
        api.MapGet("/orgs/{orgId:guid}", GetAsync).RequireAuthorization(AccessPolicies.Org(Role.Viewer)).WithTags("Organisations")
            .WithSummary("An organisation's settings: name, slug, default Odoo version, and your role");
        api.MapPatch("/orgs/{orgId:guid}", UpdateAsync).RequireAuthorization(AccessPolicies.Org(Role.Admin), AccessPolicies.Write).WithTags("Organisations")
            .WithSummary("Change name, slug and/or default_odoo_version (new projects get it when they name none); owners and admins");
        return api;
    }

    static async Task<Ok<OrgList>> List(ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new OrgList(await db.AsUserAsync(user.UserId(), OrgStore.ListAsync, ct)));

    static async Task<Results<Ok<OrgSettings>, NotFound>> GetAsync(Guid orgId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => OrgStore.GetAsync(c, t, orgId), ct) is { } org ? TypedResults.Ok(org) : TypedResults.NotFound();

    static async Task<Results<Ok<OrgSettings>, ValidationProblem, ProblemHttpResult, NotFound>> UpdateAsync(Guid orgId, OrgUpdate.Change body,
        ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (OrgUpdate.Validate(body, OrgUpdate.ApiFields) is { IsValid: false } v) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync(actor.UserId, (c, t) => OrgUpdate.ApplyAsync(c, t, actor, orgId, body), ct) switch
        {
            OrgUpdate.Updated u => TypedResults.Ok(u.After),
            OrgUpdate.SlugTaken s => TypedResults.ValidationProblem(new Validation().Add(OrgUpdate.ApiFields.Slug, s.Message).Errors),
            OrgUpdate.Forbidden f => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: f.Message),
            _ => TypedResults.NotFound(),
        };
    }
}
