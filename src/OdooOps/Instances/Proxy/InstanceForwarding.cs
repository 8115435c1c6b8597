using System.Diagnostics;
using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace OdooOps.Instances.Proxy;

/// <summary>
/// YARP's direct forwarding as the instance proxy uses it: one pooled HTTP client for every instance (YARP's guidance:
/// one SocketsHttpHandler, no proxy, no cookies, no redirects, no decompression — the answer goes back as it came),
/// HTTP/1.1 (what Odoo speaks), and the request transform that tells Odoo's --proxy-mode who asked.
/// </summary>
internal static class InstanceForwarding
{
    /// <summary>An instance that does not accept the connection within this is "did not answer" (502).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Idle time between any two reads or writes of one request (Odoo's long polls hold 50 s; reports may think longer).</summary>
    public static readonly TimeSpan ActivityTimeout = TimeSpan.FromMinutes(10);

    public static HttpMessageInvoker CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = ConnectTimeout,
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
    });

    public static readonly ForwarderRequestConfig RequestConfig = new()
    {
        ActivityTimeout = ActivityTimeout,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    /// <summary>
    /// Copies the request as it came (its Host included: Odoo builds its links and picks its database from it), but
    /// never the client's own forwarding headers: X-Forwarded-For is the address serve established (the peer, or the
    /// client a trusted proxy named — OPS_TRUSTED_PROXIES, unwound before this runs), -Proto the scheme the same way,
    /// -Host the name asked for. So a client cannot make Odoo log, rate-limit or trust an address it made up.
    /// </summary>
    public sealed class Transformer : HttpTransformer
    {
        public static readonly Transformer Instance = new();

        static readonly string[] ClientForwarding =
        [
            "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server",
            "Forwarded", "X-Real-IP", "X-Original-For", "X-Original-Proto", "X-Original-Host",
        ];

        public override async ValueTask TransformRequestAsync(HttpContext context, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(context, proxyRequest, destinationPrefix, cancellationToken);
            var headers = proxyRequest.Headers;
            foreach (var name in ClientForwarding) headers.Remove(name);
            if (context.Connection.RemoteIpAddress is { } client)
                headers.TryAddWithoutValidation("X-Forwarded-For", (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString());
            headers.TryAddWithoutValidation("X-Forwarded-Proto", context.Request.Scheme);
            headers.TryAddWithoutValidation("X-Forwarded-Host", context.Request.Host.Value);
            headers.Host = context.Request.Host.Value;
        }
    }

    /// <summary>Odoo's websocket and long polling are served on its gevent port when it has one (workers &gt; 0).</summary>
    public static bool IsGeventPath(PathString path) =>
        path.StartsWithSegments("/websocket", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments("/longpolling", StringComparison.OrdinalIgnoreCase);

    /// <summary>http://address:port, an IPv6 address in brackets.</summary>
    public static string Destination(string address, int port)
    {
        var host = address.Contains(':') && !address.StartsWith('[') ? $"[{address}]" : address;
        return $"http://{host}:{port}";
    }
}
