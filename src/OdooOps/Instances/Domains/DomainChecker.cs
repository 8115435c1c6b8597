using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace OdooOps.Instances.Domains;

/// <summary>
/// Does a name point at this server? It resolves the name (A and AAAA, as browsers would) and compares every address
/// with this server's: OPS_PUBLIC_ADDRESSES (comma-separated addresses the names must point at, e.g. the public address
/// of a NAT or load balancer in front), by default the public addresses of this machine's interfaces that are up:
/// loopback, link-local and private ranges left out — a name resolving to 127.0.0.1 reaches each visitor's own machine,
/// and a private address is most likely a name of the operator's own network (one the runners or a load balancer may
/// use to reach the console), which a tenant must not be able to claim. Every address
/// must be ours: a name that also points elsewhere sends part of its visitors there. Conclusive answers verify or
/// unverify; a failed look-up (timeout, server failure) says so and decides nothing.
/// </summary>
/// <param name="resolve">The DNS look-up (System.Net.Dns by default; tests give their own).</param>
/// <param name="configured">OPS_PUBLIC_ADDRESSES, when set.</param>
internal sealed class DomainChecker(Func<string, CancellationToken, Task<IPAddress[]>> resolve, IReadOnlyList<IPAddress>? configured)
{
    public const string PublicAddressesKey = "OPS_PUBLIC_ADDRESSES";
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(10);

    public sealed record Result(bool? Verified, string? Error);

    public static DomainChecker From(IConfiguration config) =>
        new((name, ct) => Dns.GetHostAddressesAsync(name, ct), ParseAddresses(config[PublicAddressesKey]));

    public IReadOnlyList<IPAddress> PublicAddresses => configured ?? InterfaceAddresses();

    public async Task<Result> CheckAsync(string name, CancellationToken ct)
    {
        IPAddress[] found;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(LookupTimeout);
        try
        {
            found = await resolve(name, timeout.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            return new(false, "does not resolve");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(null, $"could not be looked up in {LookupTimeout.TotalSeconds:0} s; try again");
        }
        catch (SocketException e)
        {
            return new(null, $"could not be looked up ({e.SocketErrorCode}); try again");
        }
        var addresses = found.Select(Plain).Distinct().ToList();
        if (addresses.Count == 0) return new(false, "does not resolve");
        var ours = PublicAddresses.Select(Plain).ToHashSet();
        var elsewhere = addresses.Where(a => !ours.Contains(a)).ToList();
        if (elsewhere.Count == 0) return new(true, null);
        var server = ours.Count == 0 ? "this server has no public address: set OPS_PUBLIC_ADDRESSES" : $"this server ({string.Join(", ", ours.Take(4))})";
        return new(false, $"resolves to {string.Join(", ", elsewhere.Take(4))}, not {server}");
    }

    static IPAddress Plain(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    internal static IReadOnlyList<IPAddress>? ParseAddresses(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var list = new List<IPAddress>();
        foreach (var entry in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            list.Add(IPAddress.TryParse(entry, out var address) ? address
                : throw new InvalidOperationException($"{PublicAddressesKey}: '{entry}' is not an IP address (e.g. 203.0.113.10, 2001:db8::10)."));
        return list;
    }

    static readonly IPNetwork[] NotPublic =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
    ];

    public static bool IsPublic(IPAddress a) => !NotPublic.Any(n => n.Contains(Plain(a)));

    static IReadOnlyList<IPAddress> InterfaceAddresses() =>
    [
        .. NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .Where(IsPublic),
    ];
}
