using System.Net;
using OdooOps.Webhooks;

namespace OdooOps.Server;

/// <summary>
/// How the server meets browsers and proxies, read once at start-up (a bad value stops `serve` with one line).
/// <see cref="PublicUrl"/> (OPS_PUBLIC_URL): the address people reach the server at; https there means Secure
/// cookies and HSTS. <see cref="TrustedProxies"/> (OPS_TRUSTED_PROXIES, comma-separated addresses or CIDR
/// networks, none by default): the only peers whose X-Forwarded-For / X-Forwarded-Proto are believed.
/// </summary>
internal sealed record WebSettings(Uri? PublicUrl, IReadOnlyList<IPNetwork> TrustedProxies)
{
    public const string TrustedProxiesKey = "OPS_TRUSTED_PROXIES";

    public bool PublicHttps => PublicUrl?.Scheme == Uri.UriSchemeHttps;

    /// <summary>The public URL's origin ("https://ops.example.com"), as a browser writes it in an Origin header.</summary>
    public string? PublicOrigin => PublicUrl?.GetLeftPart(UriPartial.Authority);

    public static WebSettings From(IConfiguration config) =>
        new(WebhookSettings.From(config).PublicUrl, ParseProxies(config[TrustedProxiesKey]));

    static IReadOnlyList<IPNetwork> ParseProxies(string? raw)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(entry, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address))
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else
                throw new InvalidOperationException(
                    $"{TrustedProxiesKey}: '{entry}' is not an IP address or a CIDR network (e.g. 10.0.0.5 or 10.0.0.0/24).");
        }
        return networks;
    }
}
