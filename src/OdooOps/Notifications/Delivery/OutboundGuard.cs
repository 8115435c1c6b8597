using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using OdooOps.Instances.Domains;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// Where a channel may make this server connect. An organisation admin chooses the URL or SMTP host, so unless the
/// operator allows it (OPS_NOTIFY_ALLOW_PRIVATE_TARGETS) only public addresses are reached: the name is resolved here,
/// at connection time, and loopback, private, link-local (cloud metadata), multicast and unspecified addresses are
/// refused — a name that resolves to one later (DNS rebinding) is refused then too — and so are the IPv6 forms that
/// carry or reach an IPv4 address (IPv4-mapped and -compatible, 6to4, NAT64, Teredo) when that address is not public,
/// and the retired site-local range — and this server's own addresses, public ones too (its interfaces', and
/// OPS_PUBLIC_ADDRESSES: a NAT's or load balancer's in front of it), where a service bound to every address would
/// answer. Whatever the addresses, a channel reaches only its kind's ports: web ports or
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

    static readonly Lock InterfacesLock = new();
    static IPAddress[] _interfaces = [];
    static long? _interfacesReadAt;

    /// <summary>The addresses of this machine's interfaces, read again at most every 30 s (an address may come and go).</summary>
    static IPAddress[] InterfaceAddresses()
    {
        lock (InterfacesLock)
        {
            if (_interfacesReadAt is { } at && Environment.TickCount64 - at < 30_000) return _interfaces;
            try
            {
                _interfaces = [.. NetworkInterface.GetAllNetworkInterfaces()
                    .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => Plain(u.Address))).Distinct()];
            }
            catch (NetworkInformationException) { } // keeps the last list; the configured addresses still count
            _interfacesReadAt = Environment.TickCount64;
            return _interfaces;
        }
    }

    static IPAddress Plain(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    /// <summary>Whether <paramref name="address"/> is this server's: one of its interfaces', or one it is known by (OPS_PUBLIC_ADDRESSES).</summary>
    public static bool IsOwn(IPAddress address, IReadOnlyList<IPAddress> known)
    {
        var plain = Plain(address);
        if (plain.AddressFamily == AddressFamily.InterNetworkV6 && Embedded(plain) is { } v4 && IsOwn(v4, known)) return true;
        return known.Any(k => Plain(k).Equals(plain)) || InterfaceAddresses().Contains(plain);
    }

    /// <summary>Whether a channel may make this server connect to <paramref name="address"/>: any when the operator allows private targets, else a public one not its own.</summary>
    public static bool Allowed(IPAddress address, NotificationSettings settings) =>
        settings.AllowPrivateTargets || (IsPublic(address) && !IsOwn(address, settings.OwnAddresses));

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

    /// <summary>A host written as a loopback, private or this server's own address (<paramref name="known"/>: OPS_PUBLIC_ADDRESSES), or a localhost name: refused at input already.</summary>
    public static bool IsPrivateLiteral(string host, IReadOnlyList<IPAddress>? known = null)
    {
        host = host.Trim().Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        return host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)
            || (IPAddress.TryParse(host, out var ip) && (!IsPublic(ip) || IsOwn(ip, known ?? [])));
    }

    /// <summary>The addresses of <paramref name="host"/>, as written or from DNS.</summary>
    public static async Task<IPAddress[]> AddressesAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);

    /// <summary>
    /// The addresses of <paramref name="host"/> this server may connect to (never one of <paramref name="refused"/>, the
    /// operator's SMTP server for a channel's own); refused with the reason when there is none.
    /// </summary>
    public static async Task<IPAddress[]> ResolveAsync(string host, NotificationSettings settings, CancellationToken ct, IReadOnlyList<IPAddress>? refused = null)
    {
        var addresses = await AddressesAsync(host, ct);
        bool Refused(IPAddress a) => refused?.Any(r => Plain(r).Equals(Plain(a))) == true;
        var allowed = addresses.Where(a => Allowed(a, settings) && !Refused(a)).ToArray();
        if (allowed.Length > 0) return allowed;
        throw new OutboundRefusedException(
            addresses.Length == 0 ? $"{host} does not resolve."
            : addresses.Any(Refused) ? $"{host} is this server's own SMTP server ({SmtpServer.HostKey}), which a channel may not name as its own."
            : addresses.Any(a => IsPublic(a) && IsOwn(a, settings.OwnAddresses)) ? $"{host} resolves to this server's own address, which channels may not reach."
            : $"{host} resolves to a loopback or private address, which channels may not reach on this server.");
    }

    /// <summary>A connected socket to one of the host's allowed addresses (each tried in turn).</summary>
    public static async Task<Socket> ConnectAsync(string host, int port, Purpose purpose, NotificationSettings settings, CancellationToken ct,
        IReadOnlyList<IPAddress>? refused = null)
    {
        if (!PortAllowed(port, purpose)) throw new OutboundRefusedException($"{host}:{port}: channels may reach only {PortRule(purpose)}.");
        Exception? last = null;
        foreach (var address in await ResolveAsync(host, settings, ct, refused))
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
    public static SocketsHttpHandler Handler(NotificationSettings settings) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = settings.Timeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2), // a name's new addresses are checked again before long
        ConnectCallback = async (context, ct) =>
            new NetworkStream(await ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, Purpose.Http, settings, ct), ownsSocket: true),
    };
}

/// <summary>A connection the guard refused or could not make; its message names the host, never a path or a secret.</summary>
internal sealed class OutboundRefusedException(string message) : Exception(message);
