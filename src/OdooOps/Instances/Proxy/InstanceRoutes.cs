using System.Collections.Concurrent;
using Dapper;
using OdooOps.Database;

namespace OdooOps.Instances.Proxy;

/// <summary>Where a host name goes: its branch, whether the name is verified, and the branch's current instance.</summary>
internal sealed record InstanceRoute(Guid BranchId, bool Verified, Guid? InstanceId, string? State, string? Reason, string? Address,
    int? HttpPort, int? GeventPort);

/// <summary>
/// Host name → route, looked up by ops.resolve_instance_host as the service login and kept in memory, since every
/// proxied request needs it. Invalidation: a NOTIFY on ops_instance_routes (triggers on instances, domains, host labels
/// and runner addresses) drops the whole cache in every serve process at once, so a stopped instance or a removed
/// domain stops being routed within a round trip; a reconnect of the listener drops it too (something may have been
/// missed). Entries also expire after <see cref="InstanceProxySettings.RouteCacheTtl"/>, a backstop. A lookup that
/// started before a drop is not stored (generation check), so a stale answer cannot outlive the notification.
/// Unknown names are cached as well (random names would otherwise each cost a query), within a bounded size.
/// </summary>
internal sealed class InstanceRoutes
{
    const int MaxEntries = 10_000;

    readonly OpsDatabase _db;
    readonly InstanceProxySettings _settings;
    readonly TimeProvider _time;
    readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    long _generation;

    sealed record Entry(InstanceRoute? Route, long ExpiresAt);

    public InstanceRoutes(OpsDatabase db, PgNotifications notifications, InstanceProxySettings settings, TimeProvider time)
    {
        _db = db;
        _settings = settings;
        _time = time;
        notifications.On(PgNotifications.InstanceRoutes, _ => Invalidate());
    }

    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
    }

    /// <summary>The route of an instance name or a custom domain; null when nobody owns the name.</summary>
    public async ValueTask<InstanceRoute?> ResolveAsync(InstanceHosts.Target target, CancellationToken ct)
    {
        var (host, project, branch, domain) = target switch
        {
            InstanceHosts.InstanceName n => (n.Host, n.ProjectLabel, n.BranchLabel, (string?)null),
            InstanceHosts.CustomDomain d => (d.Host, null, null, d.Host),
            _ => throw new ArgumentOutOfRangeException(nameof(target)),
        };
        if (domain is null && project is null) return null; // under our domain but not <branch>.<project>: nobody's
        var now = _time.GetTimestamp();
        if (_cache.TryGetValue(host, out var hit) && hit.ExpiresAt > now) return hit.Route;

        var generation = Interlocked.Read(ref _generation);
        await using var conn = await _db.Service.OpenConnectionAsync(ct);
        var route = await conn.QuerySingleOrDefaultAsync<InstanceRoute>(new CommandDefinition(
            """
            select branch_id, verified, instance_id, state, reason, address, http_port, gevent_port
              from ops.resolve_instance_host(@project, @branch, @domain)
            """, new { project, branch, domain }, cancellationToken: ct));
        if (_cache.Count >= MaxEntries) _cache.Clear();
        var expires = now + (long)(_settings.RouteCacheTtl.TotalSeconds * _time.TimestampFrequency);
        // Kept only if no change was announced while we looked (checked after storing too, as a drop may come between).
        if (Interlocked.Read(ref _generation) == generation)
        {
            var entry = new Entry(route, expires);
            _cache[host] = entry;
            if (Interlocked.Read(ref _generation) != generation) _cache.TryRemove(KeyValuePair.Create(host, entry));
        }
        return route;
    }
}
