using System.Text.RegularExpressions;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// What a project's repository URL and Odoo version may be (the database's CHECKs say the same of the version).
/// A repository URL is what a runner hands to git, so it is held to what git may safely fetch from a tenant's word:
/// https:// and ssh:// (or scp-style git@host:org/repo.git) by default; a local path or file:// only where the server's
/// operator allows it (<see cref="RepoSettings.AllowLocal"/>); never a credential, which belongs in the project's
/// repository credential; never http:// or git:// (anyone on the path could change what is built), and never a remote
/// helper (ext::, fd::…), which runs a program.
/// </summary>
internal static partial class ProjectRules
{
    public const int MaxRepoUrlLength = 500;

    public static Validation RuntimeVersion(this Validation v, string field, string? value)
    {
        if (value is not null && !VersionPattern().IsMatch(value))
            v.Add(field, $"{field} must be an Odoo version such as 19.0 or saas-18.3.");
        return v;
    }

    public static Validation RepoUrl(this Validation v, string field, string? value, bool allowLocal)
    {
        if (string.IsNullOrWhiteSpace(value)) return v.Add(field, $"{field} is required.");
        return RepoUrlProblem(value.Trim(), allowLocal) is { } problem ? v.Add(field, $"{field} {problem}") : v;
    }

    public enum RepoKind { Remote, Local, Refused }

    /// <summary>
    /// What kind of source a stored URL names, as git reads it, for the dispatch of a build (projects may predate these
    /// rules): something no runner may hand to git (an option, a remote helper, a scheme git would look a helper up
    /// for); a URL of a remote transport; scp-style host:path (a ':' before any '/'); anything else is a local path.
    /// </summary>
    public static RepoKind Kind(string url)
    {
        if (url.StartsWith('-') || url.Any(char.IsControl) || RemoteHelperPattern().IsMatch(url)) return RepoKind.Refused;
        if (SchemePattern().Match(url) is { Success: true } m)
            return m.Groups[1].Value.ToLowerInvariant() switch
            {
                "https" or "http" or "ssh" or "git+ssh" or "ssh+git" or "git" => RepoKind.Remote,
                "file" => RepoKind.Local,
                _ => RepoKind.Refused,
            };
        var colon = url.IndexOf(':');
        var slash = url.IndexOf('/');
        return colon > 0 && (slash < 0 || colon < slash) ? RepoKind.Remote : RepoKind.Local;
    }

    /// <summary>Why <paramref name="url"/> is not accepted (words that follow the field's name), or null. Never quotes the URL.</summary>
    public static string? RepoUrlProblem(string url, bool allowLocal)
    {
        const string Shape = "must be a git URL: https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git.";
        if (url.Length > MaxRepoUrlLength) return $"must be at most {MaxRepoUrlLength} characters.";
        if (url.Any(char.IsControl)) return "must not contain control characters.";
        if (url.StartsWith('-')) return Shape; // git would read it as an option
        if (RemoteHelperPattern().IsMatch(url))
            return "must not name a git remote helper (ext::, fd::, …): those run programs on the runner.";
        if (IsLocal(url))
        {
            if (!allowLocal)
                return "must not be a local path or file:// URL: this server does not build from its own disk " +
                       "(its operator can allow it with OPS_ALLOW_LOCAL_REPOS=1).";
            return url.StartsWith("file://", StringComparison.OrdinalIgnoreCase) || url.StartsWith('/') ? null : "must be an absolute path.";
        }
        if (url.Any(char.IsWhiteSpace)) return Shape;
        if (SchemePattern().Match(url) is { Success: true } scheme)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.Host.StartsWith('-')) return Shape;
            switch (scheme.Groups[1].Value.ToLowerInvariant())
            {
                case "https":
                    if (uri.UserInfo.Length > 0) return CredentialInUrl;
                    if (uri.Query.Length > 0 || uri.Fragment.Length > 0) return "must not have a query or fragment (a token goes in the repository credential).";
                    return null;
                case "ssh" or "git+ssh" or "ssh+git":
                    return uri.UserInfo.Contains(':') ? CredentialInUrl : null;
                case "http":
                    return "must use https://, not http://: over http the code that is built (and any credential) can be read and changed on the way.";
                case "git":
                    return "must use https:// or ssh://, not git://: the git protocol is neither encrypted nor authenticated, so anyone on the path could change the code that is built.";
                default:
                    return Shape;
            }
        }
        return ScpLikePattern().IsMatch(url) ? null : Shape;
    }

    const string CredentialInUrl = "must not contain a user name, password or token: remove it and set the project's repository credential " +
        "instead (settings page, PUT /api/ops/projects/{id}/repo-credential or odooops projects credential), which is kept encrypted and never shown.";

    /// <summary>A path on the runner's disk: git reads it with the local transport.</summary>
    public static bool IsLocal(string url) =>
        url.StartsWith('/') || url.StartsWith("./", StringComparison.Ordinal) || url.StartsWith("../", StringComparison.Ordinal) ||
        url.StartsWith('~') || url.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || url is "." or "..";

    /// <summary>
    /// The credential a URL's user information (<c>user:token</c> of https://user:token@host/…, percent-encoded) stands
    /// for: a user name and a token, or a token alone (https://TOKEN@host/…, as GitHub documents it).
    /// </summary>
    public static (string? Username, string Secret) CredentialOf(string userInfo)
    {
        var colon = userInfo.IndexOf(':');
        return colon < 0
            ? (null, Uri.UnescapeDataString(userInfo))
            : (Uri.UnescapeDataString(userInfo[..colon]), Uri.UnescapeDataString(userInfo[(colon + 1)..]));
    }

    /// <summary><paramref name="url"/> without its user information, for a refused form that shows what was typed.</summary>
    public static string? WithoutUserInfo(string? url) => url is null ? null : UserInfoPattern().Replace(url, "$1://");

    [GeneratedRegex(@"^(saas-)?[0-9]{1,3}\.[0-9]{1,2}$")] private static partial Regex VersionPattern();
    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.-]*)://")] private static partial Regex SchemePattern();
    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.-]*)://[^/?#]*@")] private static partial Regex UserInfoPattern();
    // git's <transport>::<address> syntax: everything before the :: is the name of a helper program.
    [GeneratedRegex(@"^[A-Za-z0-9+.-]+::")] private static partial Regex RemoteHelperPattern();
    [GeneratedRegex(@"^[A-Za-z0-9._-]+@[A-Za-z0-9][A-Za-z0-9.-]*:[A-Za-z0-9._/~-]+$")] private static partial Regex ScpLikePattern();
}
