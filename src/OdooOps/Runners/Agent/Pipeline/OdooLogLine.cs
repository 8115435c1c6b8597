using System.Globalization;
using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>Levels of Odoo's log lines, in order of severity.</summary>
public enum OdooLogLevel { Debug, Info, Warning, Error, Critical }

/// <summary>
/// Recognises Odoo's log format, "2024-05-01 10:00:00,123 4242 WARNING dbname odoo.addons.base: message", after removing
/// colour codes. Strict on purpose: only a full Odoo prefix counts, so the word ERROR in other output changes nothing.
/// </summary>
internal static partial class OdooLogLine
{
    [GeneratedRegex(@"^(?<stamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),\d{3} \d+ (?<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ [^\s:]+:(?: |$)",
        RegexOptions.CultureInvariant)]
    private static partial Regex Format();

    /// <summary>The line's level, or null when it is not an Odoo log line.</summary>
    public static OdooLogLevel? Level(string line)
    {
        var match = Format().Match(AnsiEscapes.Strip(line));
        if (!match.Success || !DateTime.TryParseExact(match.Groups["stamp"].Value, "yyyy-MM-dd HH:mm:ss",
                CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            return null;
        return match.Groups["level"].Value switch
        {
            "DEBUG" => OdooLogLevel.Debug,
            "INFO" => OdooLogLevel.Info,
            "WARNING" => OdooLogLevel.Warning,
            "ERROR" => OdooLogLevel.Error,
            _ => OdooLogLevel.Critical,
        };
    }

    /// <summary>The more severe of two levels, for keeping the worst level a build has logged.</summary>
    public static OdooLogLevel? Worst(OdooLogLevel? a, OdooLogLevel? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
