using System.Text.RegularExpressions;

namespace OdooOps.Runners.Protocol;

/// <summary>
/// What a runner label is, for a runner's own labels (registration) and the labels a project's builds require alike:
/// at most 32, each lower-case letters, digits, '.', '_' or '-' (at most 63). The database compares them as given.
/// </summary>
internal static partial class RunnerLabelRules
{
    /// <summary>Null when valid; else the message for the "labels" field.</summary>
    public static string? Validate(IReadOnlyList<string>? labels) =>
        labels is null ? "labels is required (an empty list takes any runner)."
        : labels.Count > 32 || labels.Any(l => l is null || !LabelPattern().IsMatch(l))
            ? "labels: at most 32, each lower-case letters, digits, '.', '_' or '-' (at most 63)."
            : null;

    /// <summary>"odoo19, big-memory" as typed into the console or a CLI option: split at commas, trimmed, blanks dropped.</summary>
    public static IReadOnlyList<string> Parse(string? commaSeparated) =>
        (commaSeparated ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex LabelPattern();
}
