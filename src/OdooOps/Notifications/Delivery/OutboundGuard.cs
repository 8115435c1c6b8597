using System.Net;
using System.Net.Sockets;
using OdooOps.Instances.Domains;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// Where a channel may make this server connect. An organisation admin chooses the URL or SMTP host, so unless the
/// operator allows it (OPS_NOTIFY_ALLOW_PRIVATE_TARGETS) only public addresses are reached: the name is resolved here,
/// at connection time, and loopback, private, link-local (cloud metadata), multicast and unspecified addresses are
/// refused — a name that resolves to one later (DNS rebinding) is refused then too — and so are the IPv6 forms that
/// carry or reach an IPv4 address (IPv4-mapped and -compatible, 6to4, NAT64, Teredo) when that address is not public,
/// and the retired site-local range. Whatever the addresses, a channel reaches only its kind's ports: web ports or
/// any above 1023 for webhooks, SMTP's or any above 1023 for mail, but never the well-known ports of databases, caches
/// and cluster APIs. Redirects are never followed.
/// </summary>
internal static class OutboundGuard
{
    public enum Purpose { Http, Smtp }

    static readonly IPNetwork[] AlsoNotPublic =
    [
        IPNetwork.Parse("224.0.0.0/3"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("::/96"), IPNetwork.Parse("::ffff:0:0:0/96"), IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("fec0::/10"),
        IPNetwork.Parse("2001::/32"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("64:ff9b:1::/48"), IPNetwork.Parse("100::/64"),
    ];

    static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16"), Nat64 = IPNetwork.Parse("64:ff9b::/96");

    /// <summary>Ports of services no notification has business with, even above 1023 (databases, caches, container and cluster APIs).</summary>
    public static readonly int[] InternalPorts =
        [1080, 2375, 2376, 2379, 2380, 3306, 3389, 5432, 5984, 6379, 6443, 9042, 9200, 9300, 10250, 10255, 11211, 27017];

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return IsPublic(address.MapToIPv4());
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Embedded(address) is { } v4 && !IsPublic(v4)) return false;
        return DomainChecker.IsPublic(address) && !AlsoNotPublic.Any(n => n.Contains(address));
    }

    /// <summary>The IPv4 address a 6to4 (bits 16–47) or well-known NAT64 (the last 32 bits) address reaches.</summary>
    static IPAddress? Embedded(IPAddress v6)
    {
        var bytes = v6.GetAddressBytes();
        if (SixToFour.Contains(v6)) return new IPAddress(bytes[2..6]);
        if (Nat64.Contains(v6)) return new IPAddress(bytes[12..16]);
        return null;
    }

    /// <summary>Whether a channel of this purpose may connect to <paramref name="port"/>.</summary>
    public static bool PortAllowed(int port, Purpose purpose) =>
        port is > 0 and <= 65535 && !InternalPorts.Contains(port)
        && (port > 1023 || (purpose == Purpose.Http ? port is 80 or 443 : port is 25 or 465 or 587));

    public static string PortRule(Purpose purpose) => purpose == Purpose.Http
        ? "80, 443 or a port above 1023 other than a database's, cache's or cluster API's"
        : "25, 465, 587 or a port above 1023 other than a database's, cache's or cluster API's";

    /// <summary>A host written as a loopback or private address, or a localhost name: refused at input already.</summary>
    public static bool IsPrivateLiteral(string host)
    {
        host = host.Trim().Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        return host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal) || (IPAddress.TryParse(host, out var ip) && !IsPublic(ip));
    }

    /// <summary>The addresses of <paramref name="host"/> this server may connect to; refused with the reason when there is none.</summary>
    public static async Task<IPAddress[]> ResolveAsync(string host, bool allowPrivate, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = allowPrivate ? addresses : [.. addresses.Where(IsPublic)];
        if (allowed.Length == 0)
            throw new OutboundRefusedException(addresses.Length == 0
                ? $"{host} does not resolve."
                : $"{host} resolves to a loopback or private address, which channels may not reach on this server.");
        return allowed;
    }

    /// <summary>A connected socket to one of the host's allowed addresses (each tried in turn).</summary>
    public static async Task<Socket> ConnectAsync(string host, int port, Purpose purpose, bool allowPrivate, CancellationToken ct)
    {
        if (!PortAllowed(port, purpose)) throw new OutboundRefusedException($"{host}:{port}: channels may reach only {PortRule(purpose)}.");
        Exception? last = null;
        foreach (var address in await ResolveAsync(host, allowPrivate, ct))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), ct);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new OutboundRefusedException($"Could not connect to {host}:{port} ({last?.Message}).");
    }

    /// <summary>The HTTP handler of webhook deliveries: the guard's connections, no proxy, no redirects, no cookies.</summary>
    public static SocketsHttpHandler Handler(bool allowPrivate, TimeSpan timeout) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = timeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2), // a name's new addresses are checked again before long
        ConnectCallback = async (context, ct) =>
            new NetworkStream(await ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, Purpose.Http, allowPrivate, ct), ownsSocket: true),
    };
}

/// <summary>A connection the guard refused or could not make; its message names the host, never a path or a secret.</summary>
internal sealed class OutboundRefusedException(string message) : Exception(message);
