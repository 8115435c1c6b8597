using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using OdooOps.Database;

namespace OdooOps.Auth;

/// <summary>
/// Console sessions live on the server: the encrypted cookie names a row of ops_private.sessions, and every request
/// asks the database whether that row is still there (one indexed look-up; no cache, so an ended session is refused at
/// once on every replica). Signing out deletes the row; a new password or a deactivated account deletes all the
/// user's rows (a trigger on registry.users); a session unused for <see cref="Idle"/> expires on both sides.
/// </summary>
internal static class Sessions
{
    public const string Claim = "odooops:session";
    public static readonly TimeSpan Idle = TimeSpan.FromHours(8);

    public static async Task SignInAsync(HttpContext http, SignInService.Success user)
    {
        var sessionId = await ServiceAsync(http, c => c.ExecuteScalarAsync<Guid>(
            "select ops.open_session(@UserId, @ip::inet, @Idle)", new { user.UserId, ip = SignInService.AddressOf(http.Connection.RemoteIpAddress), Idle }));
        var principal = CurrentUser.Create(user.UserId, user.Email, user.DisplayName, CookieAuthenticationDefaults.AuthenticationScheme, sessionId: sessionId);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
    }

    public static async Task SignOutAsync(HttpContext http)
    {
        if (SessionId(http.User) is { } sessionId)
            await ServiceAsync(http, c => c.ExecuteAsync("select ops.end_session(@sessionId)", new { sessionId }));
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>The cookie handler's check of every request that carries a session cookie.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext ctx)
    {
        var principal = ctx.Principal;
        var good = principal?.UserIdOrNull() is { } userId && SessionId(principal) is { } sessionId &&
                   await ServiceAsync(ctx.HttpContext, c => c.ExecuteScalarAsync<bool>(
                       "select ops.check_session(@sessionId, @userId, @Idle)", new { sessionId, userId, Idle }));
        if (good) return;
        ctx.RejectPrincipal();
        await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    static Guid? SessionId(System.Security.Claims.ClaimsPrincipal? principal) =>
        Guid.TryParse(principal?.FindFirst(Claim)?.Value, out var id) ? id : null;

    static async Task<T> ServiceAsync<T>(HttpContext http, Func<Npgsql.NpgsqlConnection, Task<T>> query)
    {
        var database = http.RequestServices.GetRequiredService<OpsDatabase>();
        await using var conn = await database.Service.OpenConnectionAsync(http.RequestAborted);
        return await query(conn);
    }
}
