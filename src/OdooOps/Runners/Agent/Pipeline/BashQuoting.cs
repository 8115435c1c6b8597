using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>Quotes words for bash scripts the runner writes: words of plain characters stay as they are, anything
/// else goes in single quotes (where bash expands nothing), with each ' written as '\''.</summary>
internal static partial class BashQuoting
{
    [GeneratedRegex("^[A-Za-z0-9_@%+=:,./-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Plain();

    public static string Quote(string word) =>
        word.Contains('\0') ? throw new ArgumentException("bash words cannot hold NUL characters", nameof(word))
        : Plain().IsMatch(word) ? word
        : "'" + word.Replace("'", "'\\''") + "'";
}
