namespace OdooOps.Deployments.Pages;

/// <summary>How the console shows a deployment: its outcome's colour and words, its release, its switch time.</summary>
internal static class DeploymentDisplay
{
    public static string Tone(string status) => status switch
    {
        "live" => "success",
        "deploying" => "progress",
        "failed" => "danger",
        "reverted" => "warning",
        "rolled_back" => "expired",
        _ => "neutral",
    };

    public static string Label(string status) => status.Replace('_', ' ');

    public static string ShortSha(string? sha) => sha is null ? "—" : sha[..Math.Min(12, sha.Length)];

    public static string Release(Deployment d) => d.CommitSha is { } sha ? ShortSha(sha) : d.BuildId?.ToString()[..8] ?? "—";

    /// <summary>Production: the downtime; elsewhere the previous server answered until the new one did.</summary>
    public static string Switch(Deployment d) => d.SwitchMs switch
    {
        null => "—",
        0 when d.Stage != "production" => "no downtime",
        { } ms => Ui.UiFormat.Duration(TimeSpan.FromMilliseconds(ms)),
    };
}
