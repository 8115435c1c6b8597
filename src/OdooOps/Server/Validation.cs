using System.Text.RegularExpressions;

namespace OdooOps.Server;

/// <summary>Collects field errors (named as in the JSON body) for one ValidationProblem answer.</summary>
public sealed partial class Validation
{
    readonly Dictionary<string, List<string>> _errors = [];

    public bool IsValid => _errors.Count == 0;

    public IDictionary<string, string[]> Errors => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    public Validation Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    /// <summary>Adds every error of <paramref name="other"/>.</summary>
    public Validation Merge(Validation other)
    {
        foreach (var (field, messages) in other._errors) foreach (var m in messages) Add(field, m);
        return this;
    }

    public Validation Required(string field, string? value, int maxLength = 200)
    {
        if (string.IsNullOrWhiteSpace(value)) Add(field, $"{field} is required.");
        else if (value.Length > maxLength) Add(field, $"{field} must be at most {maxLength} characters.");
        return this;
    }

    public Validation Slug(string field, string? value)
    {
        if (value is not null && !SlugPattern().IsMatch(value))
            Add(field, $"{field} must be lower-case letters, digits and dashes, starting with a letter or digit (at most 63).");
        return this;
    }

    public Validation RuntimeVersion(string field, string? value)
    {
        if (value is not null && !VersionPattern().IsMatch(value))
            Add(field, $"{field} must be an Odoo version such as 19.0 or saas-18.3.");
        return this;
    }

    public Validation RepoUrl(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) { Add(field, $"{field} is required."); return this; }
        var ok = value.Length <= 500 && (
            (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" or "ssh" or "git" or "file") ||
            ScpLikePattern().IsMatch(value) || HostPathPattern().IsMatch(value) || value.StartsWith('/'));
        if (!ok) Add(field, $"{field} must be a git URL (https://…, ssh://…, git@host:org/repo.git, host/org/repo or a local path).");
        return this;
    }

    public Validation OneOf(string field, string? value, params IReadOnlyCollection<string> allowed)
    {
        if (value is not null && !allowed.Contains(value)) Add(field, $"{field} must be one of: {string.Join(", ", allowed)}.");
        return this;
    }

    public Validation BranchName(string field, string? value)
    {
        Required(field, value);
        if (!string.IsNullOrWhiteSpace(value) && !BranchPattern().IsMatch(value))
            Add(field, $"{field} must be a git branch name (no spaces, no '..', no leading '-' or '/').");
        return this;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")] private static partial Regex SlugPattern();
    [GeneratedRegex(@"^(saas-)?[0-9]{1,3}\.[0-9]{1,2}$")] private static partial Regex VersionPattern();
    [GeneratedRegex(@"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$")] private static partial Regex ScpLikePattern();
    [GeneratedRegex(@"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}/[A-Za-z0-9._/~-]+$")] private static partial Regex HostPathPattern();
    [GeneratedRegex(@"^(?![-/])(?!.*\.\.)(?!.*//)[A-Za-z0-9._/+-]{1,200}(?<![/.])$")] private static partial Regex BranchPattern();
}
