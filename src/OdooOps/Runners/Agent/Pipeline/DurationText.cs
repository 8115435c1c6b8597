using System.Globalization;
using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>Durations as people write them in a pipeline file: 45 (seconds), 45s, 10m, 1h, 1h30m, 2m30s.</summary>
internal static partial class DurationText
{
    public const string Forms = "45, 45s, 10m, 1h or 1h30m";

    [GeneratedRegex(@"^(?:(?<h>\d{1,6})h)?(?:(?<m>\d{1,6})m)?(?:(?<s>\d{1,9})s)?$|^(?<s>\d{1,9})$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses one of the <see cref="Forms"/>; false for anything else (including an empty string).</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var m = Pattern().Match(text);
        if (text.Length == 0 || !m.Success) return false;
        long Part(string group) => m.Groups[group].Success ? long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        value = TimeSpan.FromSeconds(Part("h") * 3600 + Part("m") * 60 + Part("s"));
        return true;
    }
}
