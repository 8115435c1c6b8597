using System.Net;
using System.Security.Claims;
using OdooOps.Auth;

namespace OdooOps.Audit;

/// <summary>
/// Who makes an audited change: a signed-in user (the API, the console, the CLI's client verbs) or the system (the
/// admin verbs, run on the server's database). The change's transaction runs as the same actor: a user's as that user
/// (OpsDatabase.AsUserAsync, under RLS), the system's as the database owner.
/// </summary>
internal sealed record Actor(string Kind, Guid? UserId, IPAddress? Ip)
{
    public static Actor User(Guid userId, IPAddress? ip) => new("user", userId, ip);

    /// <summary>The signed-in caller of an API request.</summary>
    public static Actor Of(ClaimsPrincipal user, HttpContext http) => User(user.UserId(), http.Connection.RemoteIpAddress);

    public static readonly Actor System = new("system", null, null);

    public bool IsSystem => Kind == "system";
}
