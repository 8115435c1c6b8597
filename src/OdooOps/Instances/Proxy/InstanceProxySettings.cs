using OdooOps.Configuration;
using OdooOps.Server;

namespace OdooOps.Instances.Proxy;

/// <summary>
/// How `serve` reaches instances, read once at start-up (a bad value stops it with one line naming the key).
/// <see cref="Domain"/> (OPS_INSTANCES_DOMAIN, default <c>localhost</c>): instances answer at
/// <c>&lt;branch&gt;.&lt;project&gt;.&lt;domain&gt;</c> — browsers resolve <c>*.localhost</c> to loopback, so a laptop needs no DNS.
/// <see cref="MaxBodyBytes"/> (OPS_INSTANCES_MAX_BODY_MB, default 128): the largest request body passed to an instance
/// (Odoo uploads; the console's own limits do not apply to proxied requests). <see cref="ConsoleHost"/>: the host of
/// OPS_PUBLIC_URL, when set; then names that are neither the console's, an address, localhost, an instance name nor a
/// known domain answer 404. <see cref="RouteCacheTtl"/>: how long a looked-up route is kept at most (notifications
/// drop it as soon as it changes; this only bounds what a lost one could leave).
/// </summary>
internal sealed record InstanceProxySettings(string Domain, long MaxBodyBytes, string? ConsoleHost, TimeSpan RouteCacheTtl)
{
    public const string DomainKey = InstanceHostSettings.DomainKey;
    public const string MaxBodyKey = "OPS_INSTANCES_MAX_BODY_MB";
    public const string RouteCacheKey = "OPS_INSTANCES_ROUTE_CACHE_SECONDS";

    public static InstanceProxySettings From(IConfiguration config, WebSettings web)
    {
        var domain = InstanceHostSettings.From(config).Domain;
        var consoleHost = web.PublicUrl?.IdnHost.TrimEnd('.').ToLowerInvariant();
        // The console under the instances' domain would be routed as an instance, and instances could set cookies for it.
        if (consoleHost is not null && consoleHost.EndsWith("." + domain, StringComparison.Ordinal))
            throw new InvalidOperationException(
                $"{DomainKey} ({domain}) must not be a parent of the console's host ({consoleHost}, OPS_PUBLIC_URL): use a domain of its own for instances.");
        var maxBody = OpsConfiguration.WholeNumber(config, MaxBodyKey, 128, 1, 16_384) * 1024 * 1024;
        var ttl = TimeSpan.FromSeconds(OpsConfiguration.WholeNumber(config, RouteCacheKey, 10, 1, 3600));
        return new InstanceProxySettings(domain, maxBody, consoleHost, ttl);
    }
}
