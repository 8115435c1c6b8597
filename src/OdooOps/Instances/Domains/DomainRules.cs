using System.Text.RegularExpressions;
using OdooOps.Instances.Proxy;
using OdooOps.Server;

namespace OdooOps.Instances.Domains;

/// <summary>
/// What a branch's custom domain may be: a DNS name of at least two labels (lower-cased, without the final dot), not an
/// address, not a name of our instances' domain (those are ours, made from host labels), and neither the console's
/// host nor a name above or below it (an instance there could set cookies the console receives).
/// </summary>
internal static partial class DomainRules
{
    public const string Field = "name";

    /// <summary>DNS names are case-insensitive: "Shop.Example.COM." is shop.example.com.</summary>
    public static string Normalize(string? raw) => (raw ?? "").Trim().TrimEnd('.').ToLowerInvariant();

    public static Validation Validate(string name, InstanceProxySettings proxy, string field = Field)
    {
        var v = new Validation();
        if (name.Length == 0) return v.Add(field, $"{field} is required.");
        if (name.Length > 253 || !DnsName().IsMatch(name))
            return v.Add(field, $"{field} must be a domain name such as erp.example.com: letters, digits and dashes in dot-separated labels (at most 63 each).");
        if (name.Split('.')[^1].All(char.IsAsciiDigit))
            return v.Add(field, $"{field} must be a domain name, not an address.");
        if (Within(name, proxy.Domain))
            return v.Add(field, $"Names under {proxy.Domain} are the instances' own (<branch>.<project>.{proxy.Domain}); add a domain of yours.");
        if (name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal))
            return v.Add(field, $"{field} must be a public domain name; names under localhost only reach this machine.");
        if (proxy.ConsoleHost is { } console && (Within(name, console) || Within(console, name)))
            return v.Add(field, $"{name} is, or is next to, this OdooOps' own address ({console}); add another name.");
        return v;
    }

    /// <summary>Is <paramref name="name"/> <paramref name="parent"/> or below it?</summary>
    static bool Within(string name, string parent) =>
        name == parent || name.EndsWith("." + parent, StringComparison.Ordinal);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")]
    private static partial Regex DnsName();
}
