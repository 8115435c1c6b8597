using OdooOps.Builds;
using System.Globalization;

namespace OdooOps.Ui;

/// <summary>How the console words times and build states; pure functions so they are tested without a browser.</summary>
internal static class UiFormat
{
    /// <summary>"just now", "5 min ago", "3 h ago", "2 days ago", then a date: an operator scans for recency, not precision.</summary>
    public static string Relative(DateTime utc, DateTime nowUtc)
    {
        var age = nowUtc - utc;
        if (age < TimeSpan.Zero) age = TimeSpan.Zero; // clocks of database and host differ by a little
        return age switch
        {
            { TotalSeconds: < 45 } => "just now",
            { TotalMinutes: < 60 } => $"{Math.Max(1, (int)Math.Round(age.TotalMinutes))} min ago",
            { TotalHours: < 24 } => $"{(int)age.TotalHours} h ago",
            { TotalDays: < 2 } => "yesterday",
            { TotalDays: < 30 } => $"{(int)age.TotalDays} days ago",
            _ => utc.ToString(utc.Year == nowUtc.Year ? "d MMM" : "d MMM yyyy", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The exact time for a tooltip, always UTC so that two people comparing notes see the same text.</summary>
    public static string ExactUtc(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The badge colour of a build status: green success, yellow warning, red failed, orange timed out, blue running,
    /// grey otherwise (queued, cancelled, no build yet).
    /// </summary>
    public static string StatusTone(string? status) => status switch
    {
        BuildStatus.Success => "success",
        BuildStatus.Warning => "warning",
        BuildStatus.Failed => "danger",
        BuildStatus.TimedOut => "expired",
        BuildStatus.Running => "progress",
        _ => "neutral",
    };

    /// <summary>"an admin", "a developer": a role in a sentence.</summary>
    public static string WithArticle(string? role) => $"{(role is ['a' or 'e' or 'i' or 'o' or 'u', ..] ? "an" : "a")} {role}";

    /// <summary>"850 ms", "12.4 s", "3 min 05 s", "1 h 02 min": a build step's length at a glance.</summary>
    public static string Duration(TimeSpan d)
    {
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        return d switch
        {
            { TotalSeconds: < 1 } => $"{(int)d.TotalMilliseconds} ms",
            { TotalSeconds: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(d.TotalSeconds * 10) / 10:0.0} s"),
            { TotalHours: < 1 } => $"{(int)d.TotalMinutes} min {d.Seconds:00} s",
            _ => $"{(int)d.TotalHours} h {d.Minutes:00} min",
        };
    }

    public static string StatusLabel(string? status) => status is null ? "no builds" : status.Replace('_', ' ');

    public static string StageTitle(string stage) => stage switch
    {
        "production" => "Production",
        "staging" => "Staging",
        "development" => "Development",
        _ => stage,
    };
}
