using System.Text.RegularExpressions;

namespace OdooOps.Server;

/// <summary>
/// Collects field errors (named as in the JSON body, a form's labels or a CLI's options) for one answer, with the rules
/// every feature shares: required, one of, a slug (the URL name of organisations and projects). A feature's own rules
/// are extension methods in that feature (ProjectRules, BranchRules, UserAccounts.Email).
/// </summary>
internal sealed partial class Validation
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

    public Validation OneOf(string field, string? value, params IReadOnlyCollection<string> allowed)
    {
        if (value is not null && !allowed.Contains(value)) Add(field, $"{field} must be one of: {string.Join(", ", allowed)}.");
        return this;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")] private static partial Regex SlugPattern();
}
