using System.Net;
using System.Net.Sockets;
using OdooOps.Instances.Domains;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// Where a channel may make this server connect. An organisation admin chooses the URL or SMTP host, so unless the
/// operator allows it (OPS_NOTIFY_ALLOW_PRIVATE_TARGETS) only public addresses are reached: the name is resolved here,
/// at connection time, and loopback, private, link-local (cloud metadata), multicast and unspecified addresses are
/// refused — a name that resolves to one later (DNS rebinding) is refused then too. Redirects are never followed.
/// </summary>
internal static class OutboundGuard
{
    static readonly IPNetwork[] AlsoNotPublic =
    [
        IPNetwork.Parse("224.0.0.0/3"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("64:ff9b::/96"),
    ];

    public static bool IsPublic(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return DomainChecker.IsPublic(plain) && !AlsoNotPublic.Any(n => n.Contains(plain));
    }

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
    public static async Task<Socket> ConnectAsync(string host, int port, bool allowPrivate, CancellationToken ct)
    {
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
            new NetworkStream(await ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, allowPrivate, ct), ownsSocket: true),
    };
}

/// <summary>A connection the guard refused or could not make; its message names the host, never a path or a secret.</summary>
internal sealed class OutboundRefusedException(string message) : Exception(message);
