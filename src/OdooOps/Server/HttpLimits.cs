using Microsoft.AspNetCore.Server.Kestrel.Core;
using OdooOps.Configuration;

namespace OdooOps.Server;

/// <summary>
/// Kestrel's connection limits, so that a flood of connections or slow clients cannot take every socket or thread:
/// OPS_HTTP_MAX_CONNECTIONS (1,000 open at once; more are closed as they arrive), OPS_HTTP_MAX_UPGRADED_CONNECTIONS
/// (1,000: Odoo's websockets through the instance proxy, one per browser with Odoo open), OPS_HTTP_HEADERS_TIMEOUT_SECONDS (15: a client that has
/// not sent its request headers by then is cut off) and OPS_HTTP_KEEP_ALIVE_SECONDS (120: an idle connection between
/// requests). Read once at start; a bad value stops `serve` with one line naming the key.
/// </summary>
internal sealed record HttpLimits(long MaxConnections, long MaxUpgradedConnections, TimeSpan HeadersTimeout, TimeSpan KeepAlive)
{
    public const string MaxConnectionsKey = "OPS_HTTP_MAX_CONNECTIONS";
    public const string MaxUpgradedKey = "OPS_HTTP_MAX_UPGRADED_CONNECTIONS";
    public const string HeadersTimeoutKey = "OPS_HTTP_HEADERS_TIMEOUT_SECONDS";
    public const string KeepAliveKey = "OPS_HTTP_KEEP_ALIVE_SECONDS";

    public static HttpLimits From(IConfiguration config) => new(
        OpsConfiguration.WholeNumber(config, MaxConnectionsKey, 1_000, 1, 1_000_000),
        OpsConfiguration.WholeNumber(config, MaxUpgradedKey, 1_000, 0, 1_000_000),
        TimeSpan.FromSeconds(OpsConfiguration.WholeNumber(config, HeadersTimeoutKey, 15, 1, 300)),
        TimeSpan.FromSeconds(OpsConfiguration.WholeNumber(config, KeepAliveKey, 120, 1, 3600)));

    public void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxConcurrentUpgradedConnections = MaxUpgradedConnections;
        limits.RequestHeadersTimeout = HeadersTimeout;
        limits.KeepAliveTimeout = KeepAlive;
    }
}
