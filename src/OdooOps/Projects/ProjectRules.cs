using System.Text.RegularExpressions;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>What a project's repository URL and Odoo version may be (the database's CHECKs say the same of the version).</summary>
internal static partial class ProjectRules
{
    public static Validation RuntimeVersion(this Validation v, string field, string? value)
    {
        if (value is not null && !VersionPattern().IsMatch(value))
            v.Add(field, $"{field} must be an Odoo version such as 19.0 or saas-18.3.");
        return v;
    }

    public static Validation RepoUrl(this Validation v, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return v.Add(field, $"{field} is required.");
        var ok = value.Length <= 500 && (
            (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" or "ssh" or "git" or "file") ||
            ScpLikePattern().IsMatch(value) || HostPathPattern().IsMatch(value) || value.StartsWith('/'));
        return ok ? v : v.Add(field, $"{field} must be a git URL (https://…, ssh://…, git@host:org/repo.git, host/org/repo or a local path).");
    }

    [GeneratedRegex(@"^(saas-)?[0-9]{1,3}\.[0-9]{1,2}$")] private static partial Regex VersionPattern();
    [GeneratedRegex(@"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$")] private static partial Regex ScpLikePattern();
    [GeneratedRegex(@"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}/[A-Za-z0-9._/~-]+$")] private static partial Regex HostPathPattern();
}
