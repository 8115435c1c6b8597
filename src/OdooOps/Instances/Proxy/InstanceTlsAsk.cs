using System.Net;
using OdooOps.Server;

namespace OdooOps.Instances.Proxy;

/// <summary>
/// GET /internal/tls-ask?domain=NAME — for a TLS proxy in front that makes certificates as names are first asked
/// for (Caddy's on-demand TLS `ask`): 200 when serve answers for the name (the console's name, an existing
/// &lt;branch&gt;.&lt;project&gt; name, a verified custom domain), 404 otherwise, so nobody makes the proxy request certificates
/// for arbitrary names. Only the proxy may ask: loopback or OPS_TRUSTED_PROXIES, else 403.
/// </summary>
internal static class InstanceTlsAsk
{
    public const string Path = "/internal/tls-ask";

    public static IEndpointRouteBuilder MapInstanceTlsAsk(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, AskAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    static async Task<IResult> AskAsync(string? domain, HttpContext http, WebSettings web, InstanceProxySettings settings, InstanceRoutes routes,
        CancellationToken ct)
    {
        // The peer itself (forwarded headers may have replaced RemoteIpAddress with a client's address already: then
        // that client came through a trusted proxy, which is not who asks for certificates).
        var peer = http.Connection.RemoteIpAddress;
        if (peer is null || !(IPAddress.IsLoopback(peer) || web.TrustedProxies.Any(n => n.Contains(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer))))
            return TypedResults.StatusCode(StatusCodes.Status403Forbidden);
        var name = InstanceHosts.Normalize(domain);
        if (name.Length == 0) return TypedResults.NotFound();
        var target = InstanceHosts.Classify(name, settings);
        if (target is InstanceHosts.Console) return name == settings.ConsoleHost ? TypedResults.Ok() : TypedResults.NotFound();
        var route = await routes.ResolveAsync(target, ct);
        return route is { Verified: true } ? TypedResults.Ok() : TypedResults.NotFound();
    }
}
