using System.Text;
using System.Text.RegularExpressions;
using OdooOps.Server;

namespace OdooOps.EnvVars;

/// <summary>
/// What an environment variable may be. A name is a portable environment name (a letter or _, then letters, digits and
/// _, at most 128; the database's CHECK says the same) that the platform does not set itself: OdooOps' own
/// (ODOOOPS_*, OPS_*), libpq's (PG*: the runner points Odoo at its database with them), the dynamic loader's (LD_*) and
/// git's (GIT_*), and the ones every process gets from its sandbox (HOME, PATH, USER, LOGNAME, TMPDIR, SHELL, PWD,
/// LC_ALL). A value is at most 16 KiB (UTF-8) and a stage holds at most 100, so a stage's variables stay well inside
/// what Linux lets a process start with; a secret's value is not empty.
/// </summary>
internal static partial class EnvVarRules
{
    public static readonly string[] Stages = ["development", "staging", "production"];
    public const int MaxValueBytes = 16 * 1024;
    public const int MaxPerStage = 100;
    public const int MaxNameLength = 128;

    public static readonly string[] ReservedPrefixes = ["ODOOOPS_", "OPS_", "PG", "LD_", "GIT_"];
    public static readonly string[] ReservedNames = ["HOME", "PATH", "USER", "LOGNAME", "TMPDIR", "SHELL", "PWD", "LC_ALL"];

    /// <summary>The names errors are reported under: the JSON fields for the API, the labels on the page.</summary>
    public sealed record FieldNames(string Stage, string Name, string Value);

    public static readonly FieldNames ApiFields = new("stage", "name", "value");

    public static Validation Stage(this Validation v, string field, string? stage) =>
        stage is null ? v.Add(field, $"{field} is required.") : v.OneOf(field, stage, Stages);

    public static Validation Name(this Validation v, string field, string? name) =>
        NameProblem(name) is { } problem ? v.Add(field, $"{field} {problem}") : v;

    /// <summary>A given value's size; whether one is needed at all depends on what is stored (<see cref="EnvVarWrites"/>).</summary>
    public static Validation Value(this Validation v, string field, string? value, bool? secret)
    {
        if (value is null) return v;
        if (Encoding.UTF8.GetByteCount(value) > MaxValueBytes) v.Add(field, $"{field} must be at most {MaxValueBytes / 1024} KiB.");
        else if (secret == true && value.Length == 0) v.Add(field, $"{field} is required: a secret cannot be empty.");
        return v;
    }

    /// <summary>Why <paramref name="name"/> is not a variable's name (words that follow the field's name), or null.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "is required.";
        if (name.Length > MaxNameLength) return $"must be at most {MaxNameLength} characters.";
        if (!NamePattern().IsMatch(name)) return "must start with a letter or _ and hold only letters, digits and _ (e.g. SMTP_PASSWORD).";
        if (ReservedNames.Contains(name, StringComparer.Ordinal) || ReservedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            return $"'{name}' is set by the platform itself (reserved: {string.Join(", ", ReservedPrefixes.Select(p => p + "*"))}, " +
                   $"{string.Join(", ", ReservedNames)}).";
        return null;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")] private static partial Regex NamePattern();
}
