using OdooOps.Ui;

namespace OdooOps.Advisories.Pages;

/// <summary>How the console shows an advisory: its severity's and status's colours, and its history in words.</summary>
internal static class AdvisoryDisplay
{
    public static string SeverityTone(string severity) => severity switch
    {
        "critical" => "danger",
        "warning" => "warning",
        _ => "info",
    };

    public static string StatusTone(string status) => status switch
    {
        "open" => "warning",
        "resolved" => "success",
        _ => "neutral",
    };

    public static string RuleLabel(string rule) => rule.Replace('_', ' ');

    /// <summary>Who made a step: their name, else their email; a user no longer visible; null when nobody did (the scan).</summary>
    public static string? Who(AdvisoryEvent e) =>
        e.ActorUserId is null ? null : !string.IsNullOrWhiteSpace(e.ActorName) ? e.ActorName : e.ActorEmail ?? "a former member";

    /// <summary>"Suppressed by Dana Developer until 2030-01-31 00:00 UTC", "Resolved by the scan: the condition no longer holds"…</summary>
    public static string Describe(AdvisoryEvent e)
    {
        var by = Who(e) is { } who ? $" by {who}" : "";
        return e.Event switch
        {
            "opened" => by.Length > 0 ? $"Opened{by}" : "Opened by the scan",
            "suppressed" => $"Suppressed{by}" + (e.SuppressedUntil is { } until ? $" until {Until(until)}" : ""),
            "unsuppressed" => by.Length > 0 ? $"Un-suppressed{by}: open again" : "Suppression ended: open again",
            "resolved" => by.Length > 0 ? $"Resolved{by}" : "Resolved by the scan: the condition no longer holds",
            _ => e.Event,
        };
    }

    public static string Until(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The notice after a change made on the page.</summary>
    public static string? Notice(string? done, Advisory? a) => (done, a) switch
    {
        (_, null) => null,
        ("resolve", { } x) => $"Resolved “{x.Title}”. If its condition still holds, the next scan opens it again.",
        ("suppress", { SuppressedUntil: { } until } x) => $"Suppressed “{x.Title}” until {Until(until)}.",
        ("unsuppress", { } x) => $"“{x.Title}” is open again.",
        _ => null,
    };

    /// <summary>The measured value a rule compared with its threshold, when it has one.</summary>
    public static string? Measured(Advisory a) => a.MeasuredValue is { } v
        ? v.ToString(Math.Abs(v) >= 100 ? "0" : "0.##", System.Globalization.CultureInfo.InvariantCulture)
        : null;

    public static string Where(Advisory a, bool withProject) =>
        string.Join(" · ", new[] { withProject ? a.ProjectName : null, a.Branch }.Where(s => s is not null));

    public static string Seen(Advisory a, DateTime now) =>
        $"first seen {UiFormat.Relative(a.FirstSeenAt, now)}, last seen {UiFormat.Relative(a.LastSeenAt, now)}";
}
