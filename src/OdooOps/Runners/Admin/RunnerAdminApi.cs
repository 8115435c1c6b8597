using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;
using OdooOps.Webhooks;

namespace OdooOps.Runners.Admin;

/// <summary>
/// /api/ops/orgs/{orgId}/runners and …/runner-tokens — the admin side of runners (the runners' own protocol is
/// <see cref="RunnerDispatchApi"/>). Members list the org's runners and the shared ones; owners and admins issue registration
/// tokens (shown once), list and revoke them, and disable or enable runners. Changes need write scope and are audited.
/// </summary>
internal static class RunnerAdminApi
{
    public sealed record RunnerList(IReadOnlyList<RunnerInfo> Runners);
    public sealed record RegistrationTokenList(IReadOnlyList<RegistrationTokenInfo> Tokens);
    public sealed record CreateRegistrationToken(int? ExpiresInHours);
    /// <summary>A change of a runner's instance hosting: a value left out (null) stays as it is.</summary>
    public sealed record InstanceHosting(bool? ServesInstances, int? InstanceCapacity);

    /// <param name="config">OPS_PUBLIC_URL (read once here) is the server address put into the register command.</param>
    public static RouteGroupBuilder MapRunnerAdminApi(this RouteGroupBuilder api, IConfiguration config)
    {
        var settings = WebhookSettings.From(config);
        var org = api.MapGroup("/orgs/{orgId:guid}").WithTags("Runners");
        org.MapGet("/runners", ListRunners).RequireAuthorization(AccessPolicies.Org(Role.Viewer))
            .WithSummary("The org's runners and the shared ones: labels, capacity, version, last seen, online, disabled, running builds");
        org.MapPost("/runners/{runnerId:guid}/disable", (Guid orgId, Guid runnerId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
                SetDisabled(orgId, runnerId, true, user, db, http, ct))
            .RequireAuthorization(AccessPolicies.Org(Role.Admin), AccessPolicies.Write)
            .WithSummary("Disable a runner: its token is refused (401) and the builds it holds are re-queued");
        org.MapPost("/runners/{runnerId:guid}/enable", (Guid orgId, Guid runnerId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
                SetDisabled(orgId, runnerId, false, user, db, http, ct))
            .RequireAuthorization(AccessPolicies.Org(Role.Admin), AccessPolicies.Write)
            .WithSummary("Enable a disabled runner again");
        org.MapPut("/runners/{runnerId:guid}/instance-hosting", SetInstanceHosting)
            .RequireAuthorization(AccessPolicies.Org(Role.Admin), AccessPolicies.Write)
            .WithSummary("Whether a runner hosts Odoo instances (serves_instances) and how many at most (instance_capacity, 0–1000); instances already there stay");
        org.MapGet("/runner-tokens", ListTokens).RequireAuthorization(AccessPolicies.Org(Role.Admin))
            .WithSummary("The org's runner registration tokens (unused, used, expired, revoked), never the tokens themselves");
        org.MapPost("/runner-tokens", (Guid orgId, CreateRegistrationToken? body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct) =>
                CreateToken(orgId, body, user, db, http, settings, ct))
            .RequireAuthorization(AccessPolicies.Org(Role.Admin), AccessPolicies.Write)
            .WithSummary("Create a runner registration token (oo_reg_…, 1–720 h, default 24 h); the token is in this answer only");
        org.MapDelete("/runner-tokens/{tokenId:guid}", RevokeToken).RequireAuthorization(AccessPolicies.Org(Role.Admin), AccessPolicies.Write)
            .WithSummary("Revoke a registration token: it registers no more runners (those it registered keep working)");
        return api;
    }

    static async Task<Ok<RunnerList>> ListRunners(Guid orgId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new RunnerList(await db.AsUserAsync(user.UserId(), (c, t) => RunnerAdminStore.ListAsync(c, t, orgId), ct)));

    static async Task<Results<Ok<RunnerInfo>, NotFound>> SetDisabled(Guid orgId, Guid runnerId, bool disabled, ClaimsPrincipal user, OpsDatabase db,
        HttpContext http, CancellationToken ct) =>
        await RunnerAdmin.SetDisabledAsync(db, user.UserId(), orgId, runnerId, disabled, http.Connection.RemoteIpAddress, ct) is { Runner: { } runner }
            ? TypedResults.Ok(runner)
            : TypedResults.NotFound();

    static async Task<Results<Ok<RunnerInfo>, ValidationProblem, NotFound>> SetInstanceHosting(Guid orgId, Guid runnerId, InstanceHosting body,
        ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        if (RunnerInstanceHosting.Validate(body.ServesInstances, body.InstanceCapacity) is { IsValid: false } v)
            return TypedResults.ValidationProblem(v.Errors);
        return await RunnerInstanceHosting.SetAsync(db, user.UserId(), orgId, runnerId, body.ServesInstances, body.InstanceCapacity,
                http.Connection.RemoteIpAddress, ct) is { Runner: { } runner }
            ? TypedResults.Ok(runner)
            : TypedResults.NotFound();
    }

    static async Task<Ok<RegistrationTokenList>> ListTokens(Guid orgId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        TypedResults.Ok(new RegistrationTokenList(await db.AsUserAsync(user.UserId(), (c, t) => RunnerAdminStore.ListTokensAsync(c, t, orgId), ct)));

    static async Task<Results<Created<NewRegistrationToken>, ValidationProblem>> CreateToken(Guid orgId, CreateRegistrationToken? body,
        ClaimsPrincipal user, OpsDatabase db, HttpContext http, WebhookSettings settings, CancellationToken ct)
    {
        var v = RunnerAdmin.ValidateExpiry(body?.ExpiresInHours);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var token = await RunnerAdmin.CreateTokenAsync(db, user.UserId(), orgId, body?.ExpiresInHours ?? RunnerAdmin.DefaultExpiresInHours,
            settings.BaseUrl(http.Request), http.Connection.RemoteIpAddress, ct);
        http.Response.Headers.CacheControl = "no-store"; // the answer carries the token
        return TypedResults.Created($"/api/ops/orgs/{orgId}/runner-tokens/{token.Id}", token);
    }

    /// <summary>Revoking twice is fine (204 both times); only the first is audited.</summary>
    static async Task<Results<NoContent, NotFound>> RevokeToken(Guid orgId, Guid tokenId, ClaimsPrincipal user, OpsDatabase db, HttpContext http,
        CancellationToken ct) =>
        await RunnerAdmin.RevokeTokenAsync(db, user.UserId(), orgId, tokenId, http.Connection.RemoteIpAddress, ct) is { Token: not null }
            ? TypedResults.NoContent()
            : TypedResults.NotFound();
}
