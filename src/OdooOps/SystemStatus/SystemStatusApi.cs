using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Auth;

namespace OdooOps.SystemStatus;

/// <summary><c>GET /api/ops/system</c>: the System page's numbers (<see cref="SystemReport"/>), for system administrators only.</summary>
internal static class SystemStatusApi
{
    public static RouteGroupBuilder MapSystemStatusApi(this RouteGroupBuilder api)
    {
        api.MapGet("/system", GetAsync).WithTags("System")
            .WithSummary("Scheduled jobs and recent runs, build queue, runners online, database size, connections and pools, and the monitoring checks (system admins)");
        return api;
    }

    static async Task<Results<Ok<SystemReport>, ProblemHttpResult>> GetAsync(ClaimsPrincipal user, SystemStatusReader reader, CancellationToken ct) =>
        await reader.ReadAsync(user.UserId(), ct) is { } status
            ? TypedResults.Ok(status)
            : TypedResults.Problem("The server's state is visible to system administrators only.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
}
