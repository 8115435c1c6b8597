using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Auth;

/// <summary>
/// Endpoint authorization, the first of the two enforcements (RLS is the second). A requirement names the least
/// role it needs on the project or org named by the route's {projectId} / {orgId}; a route without that value,
/// or with a value that is not a uuid, is denied (fail closed). A user who is not a member at all gets 404 —
/// other tenants' projects do not exist for them — and a member whose role is too low gets 403.
/// </summary>
internal static class AccessPolicies
{
    public const string SignedIn = "signed-in";
    public const string Write = "write";

    public static string Project(Role least) => $"project:{least.Name()}";
    public static string Org(Role least) => $"org:{least.Name()}";

    public static void Configure(AuthorizationOptions options)
    {
        options.AddPolicy(SignedIn, p => p.RequireAuthenticatedUser());
        options.AddPolicy(Write, p => p.RequireAuthenticatedUser().AddRequirements(new WriteScopeRequirement()));
        foreach (var role in OdooOps.Auth.Roles.All)
        {
            options.AddPolicy(Project(role), p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement("projectId", role)));
            options.AddPolicy(Org(role), p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement("orgId", role)));
        }
    }
}

internal sealed record WriteScopeRequirement : IAuthorizationRequirement;

internal sealed record RoleRequirement(string RouteKey, Role MinRole) : IAuthorizationRequirement;

internal sealed class WriteScopeHandler : AuthorizationHandler<WriteScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, WriteScopeRequirement requirement)
    {
        if (context.User.CanWrite()) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, "This token has read scope; create a token with scope write."));
        return Task.CompletedTask;
    }
}

internal sealed class RoleHandler(OpsDatabase database) : AuthorizationHandler<RoleRequirement>
{
    public const string NotFound = "not-found";

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (context.Resource is not HttpContext http ||
            http.GetRouteValue(requirement.RouteKey) is not string raw ||
            !Guid.TryParse(raw, out var id) ||
            context.User.UserIdOrNull() is not { } userId)
        {
            context.Fail(new AuthorizationFailureReason(this, $"The route names no {requirement.RouteKey}."));
            return;
        }
        var sql = requirement.RouteKey == "orgId" ? "select ops.org_role(@id)" : "select ops.project_role(@id)";
        var role = await database.AsUserAsync(userId, (conn, tx) => conn.ExecuteScalarAsync<string?>(sql, new { id }, tx), http.RequestAborted);
        if (role is null) context.Fail(new AuthorizationFailureReason(this, NotFound));
        else if (role.AtLeast(requirement.MinRole)) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, $"This needs the {requirement.MinRole.Name()} role or higher; you are {role}."));
    }
}

/// <summary>Turns authorization failures of API requests into ProblemDetails (404 for strangers, 403 with the reason).</summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && ApiProblems.IsApiRequest(context))
        {
            var reasons = result.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToList() ?? [];
            if (reasons.Contains(RoleHandler.NotFound))
                await ApiProblems.WriteAsync(context, StatusCodes.Status404NotFound, "Not found", "No such resource, or it is not yours to see.");
            else
                await ApiProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden", reasons.FirstOrDefault() ?? "Your role does not allow this.");
            return;
        }
        await _default.HandleAsync(next, context, policy, result);
    }
}
