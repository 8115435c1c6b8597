using System.Net;

namespace OdooOps.Instances.Proxy;

/// <summary>
/// What a request's host name is, decided from the name alone (no database): the console's, an instance name
/// (<c>&lt;branch&gt;.&lt;project&gt;.&lt;domain&gt;</c>), some other name under the instances' domain (nobody's: 404), or a
/// possible custom domain, which the database decides. Names are compared whole, lower-cased, without port or final
/// dot: a name is never matched by its suffix.
/// </summary>
internal static class InstanceHosts
{
    public abstract record Target;
    /// <summary>OdooOps itself: its console, API and runner protocol.</summary>
    public sealed record Console : Target;
    /// <summary>A name of the instances' domain: the labels of the branch and the project, or null when the name does
    /// not have that shape (it is ours, and nobody's).</summary>
    public sealed record InstanceName(string Host, string? ProjectLabel, string? BranchLabel) : Target;
    /// <summary>Another name: a branch's custom domain, or (when <paramref name="Strict"/> is false) the console under a name
    /// of its own.</summary>
    public sealed record CustomDomain(string Host, bool Strict) : Target;

    static readonly Console TheConsole = new();

    public static Target Classify(string? rawHost, InstanceProxySettings settings)
    {
        var host = Normalize(rawHost);
        if (host.Length == 0 || host == "localhost" || host == settings.ConsoleHost) return TheConsole;
        if (IPAddress.TryParse(host.Trim('[', ']'), out _)) return TheConsole;
        var domain = settings.Domain;
        if (host.Length > domain.Length + 1 && host.EndsWith(domain, StringComparison.Ordinal) && host[^(domain.Length + 1)] == '.')
        {
            var labels = host[..^(domain.Length + 1)].Split('.');
            return labels.Length == 2 && labels[0].Length > 0 && labels[1].Length > 0
                ? new InstanceName(host, labels[1], labels[0])
                : new InstanceName(host, null, null);
        }
        return new CustomDomain(host, Strict: settings.ConsoleHost is not null);
    }

    /// <summary>The host without port and final dot, lower-cased (HostString.Host has already dropped the port).</summary>
    public static string Normalize(string? host) => (host ?? "").Trim().TrimEnd('.').ToLowerInvariant();
}
