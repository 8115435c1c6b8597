using System.Text.RegularExpressions;

namespace OdooOps.Instances;

/// <summary>
/// The domain under which instances are reached by host name, <c>&lt;branch&gt;.&lt;project&gt;.&lt;domain&gt;</c>
/// (OPS_INSTANCES_DOMAIN, default <c>localhost</c>: browsers resolve <c>*.localhost</c> to loopback, so a laptop needs no
/// DNS). The proxy routes by it and <see cref="InstanceUrls"/> writes the links people follow, from this one setting.
/// A bad value stops `serve` at start with the key named.
/// </summary>
internal sealed partial record InstanceHostSettings(string Domain)
{
    public const string DomainKey = "OPS_INSTANCES_DOMAIN";
    public const string DefaultDomain = "localhost";

    public static InstanceHostSettings From(IConfiguration config)
    {
        var raw = config[DomainKey];
        if (string.IsNullOrWhiteSpace(raw)) return new(DefaultDomain);
        var domain = raw.Trim().TrimEnd('.').ToLowerInvariant();
        return domain.Length <= 200 && DomainPattern().IsMatch(domain)
            ? new(domain)
            : throw new InvalidOperationException($"{DomainKey}: '{raw}' is not a domain name (such as apps.example.com or localhost).");
    }

    /// <summary>The host name of a branch's current instance, from the labels its project and branch were given.</summary>
    public string HostName(string branchLabel, string projectLabel) => $"{branchLabel}.{projectLabel}.{Domain}";

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")]
    private static partial Regex DomainPattern();
}
