using System.Globalization;
using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// Odoo's request log lines (werkzeug: `… INFO db werkzeug: 10.0.2.2 - - [date] "GET /web HTTP/1.1" 200 - 12 0.004 0.031`,
/// the last three being query count, query time and the rest of the time, in seconds) counted between two samples:
/// requests, server errors (5xx) and their mean response time.
/// </summary>
internal sealed partial class RequestStats
{
    readonly Lock _gate = new();
    long _count, _errors;
    double _seconds;

    [GeneratedRegex("""werkzeug: \S+ - - \[[^\]]*\] "[^"]*" (?<status>\d{3}) \S+(?: (?<queries>\d+) (?<query>[\d.]+) (?<rest>[\d.]+))?""",
        RegexOptions.CultureInvariant)]
    private static partial Regex Werkzeug();

    public void Observe(string line)
    {
        if (!line.Contains("werkzeug:", StringComparison.Ordinal)) return;
        var match = Werkzeug().Match(line);
        if (!match.Success) return;
        var status = int.Parse(match.Groups["status"].Value, CultureInfo.InvariantCulture);
        var seconds = match.Groups["query"].Success
            ? double.Parse(match.Groups["query"].Value, CultureInfo.InvariantCulture) + double.Parse(match.Groups["rest"].Value, CultureInfo.InvariantCulture)
            : 0;
        lock (_gate)
        {
            _count++;
            if (status >= 500) _errors++;
            _seconds += seconds;
        }
    }

    /// <summary>What was counted since the last call (then starts again from zero).</summary>
    public (long Requests, long Errors, double? MeanMs) Take()
    {
        lock (_gate)
        {
            var taken = (_count, _errors, _count > 0 ? _seconds * 1000 / _count : (double?)null);
            (_count, _errors, _seconds) = (0, 0, 0);
            return taken;
        }
    }
}
