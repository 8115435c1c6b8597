namespace OdooOps.Builds.Pages;

/// <summary>How the console words a build's commit and times; pure, so tested without a browser.</summary>
internal static class BuildDisplay
{
    public static string ShortSha(string sha) => sha.Length <= 8 ? sha : sha[..8];

    /// <summary>The first line of a commit message, cut at 100 characters; null for none.</summary>
    public static string? Subject(string? message)
    {
        var first = message?.Split('\n', 2)[0].Trim();
        if (string.IsNullOrEmpty(first)) return null;
        return first.Length <= 100 ? first : first[..99] + "…";
    }

    /// <summary>Started to finished; for a running build, started to now; null before it started.</summary>
    public static string? Duration(Build b, DateTime? nowUtc = null) =>
        b.StartedAt is not { } started ? null
        : b.FinishedAt is { } finished ? Ui.UiFormat.Duration(finished - started)
        : b.IsFinished ? null
        : Ui.UiFormat.Duration((nowUtc ?? DateTime.UtcNow) - started);

    public static string? StepDuration(BuildStep s) => s.DurationMs is { } ms ? Ui.UiFormat.Duration(TimeSpan.FromMilliseconds(ms)) : null;
}
