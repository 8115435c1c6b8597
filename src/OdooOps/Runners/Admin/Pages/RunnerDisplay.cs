using System.Globalization;

namespace OdooOps.Runners.Admin.Pages;

/// <summary>How the runners page words a runner's and a registration token's state; pure functions, tested without a server.</summary>
internal static class RunnerDisplay
{
    /// <summary>Disabled wins: a disabled runner may still be polling, but it gets nothing and that is what matters.</summary>
    public static string State(RunnerInfo runner) => runner.Disabled ? "disabled" : runner.Online ? "online" : "offline";

    public static string StateTone(string state) => state switch
    {
        "online" => "success",
        "disabled" => "warning",
        _ => "neutral",
    };

    /// <summary>Unused and used tokens both still register runners until they expire; the colour says whether it still works.</summary>
    public static string TokenTone(string status) => status switch
    {
        "unused" or "used" => "success",
        "expired" => "expired",
        _ => "neutral",
    };

    /// <summary>The lifetimes the console offers, in hours (the API takes any from 1 to 720).</summary>
    public static readonly int[] ExpiryHours = [1, 24, 168, 720];

    public static string Lifetime(int hours) => hours switch
    {
        1 => "1 hour",
        < 48 => $"{hours} hours",
        _ => string.Create(CultureInfo.InvariantCulture, $"{hours / 24} days"),
    };
}
