using OdooOps.Configuration;
using OdooOps.Server;

namespace OdooOps.Instances;

/// <summary>
/// The one writer of an instance's address, <c>scheme://&lt;branch&gt;.&lt;project&gt;.&lt;domain&gt;[:port]</c>, for the API,
/// the console and (through the API) the CLI. Scheme and port are OPS_INSTANCES_URL_SCHEME / OPS_INSTANCES_URL_PORT
/// when set, else those `serve` is reached at (OPS_PUBLIC_URL, else the request's), since the proxy answers on the same
/// listener; the port is left out when it is the scheme's own. Only a branch's current instance has one: the host
/// name routes there.
/// </summary>
internal sealed class InstanceUrls(InstanceHostSettings hosts, string? scheme, int? port, WebSettings web)
{
    public const string SchemeKey = "OPS_INSTANCES_URL_SCHEME";
    public const string PortKey = "OPS_INSTANCES_URL_PORT";

    public static InstanceUrls From(IConfiguration config, WebSettings web)
    {
        var scheme = config[SchemeKey]?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(scheme)) scheme = null;
        else if (scheme is not ("http" or "https")) throw new InvalidOperationException($"{SchemeKey}: '{config[SchemeKey]}' must be http or https.");
        int? port = string.IsNullOrWhiteSpace(config[PortKey]) ? null : (int)OpsConfiguration.WholeNumber(config, PortKey, 0, 1, 65535);
        return new InstanceUrls(InstanceHostSettings.From(config), scheme, port, web);
    }

    /// <summary>The address of the branch whose labels these are, as seen by a client of <paramref name="request"/>;
    /// null while a label is not assigned yet.</summary>
    public string? For(HttpRequest request, string? branchLabel, string? projectLabel)
    {
        if (branchLabel is null || projectLabel is null) return null;
        var s = scheme ?? web.PublicUrl?.Scheme ?? request.Scheme;
        var p = port ?? (web.PublicUrl is { } u ? u.Port : request.Host.Port);
        var host = hosts.HostName(branchLabel, projectLabel);
        return p is null || (s == "http" && p == 80) || (s == "https" && p == 443) ? $"{s}://{host}" : $"{s}://{host}:{p}";
    }

    /// <summary>The instance with its <see cref="Instance.Url"/> (current instances only).</summary>
    public Instance WithUrl(Instance instance, HttpRequest request) =>
        instance with { Url = instance.IsCurrent ? For(request, instance.BranchHostLabel, instance.ProjectHostLabel) : null };
}
