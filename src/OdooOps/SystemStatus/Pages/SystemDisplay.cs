using System.Globalization;

namespace OdooOps.SystemStatus.Pages;

/// <summary>How the System page words its numbers; pure functions, tested without a browser.</summary>
internal static class SystemDisplay
{
    public static string Tone(string status) => status switch
    {
        SystemReport.Ok or "success" => "success",
        SystemReport.Warning => "warning",
        "failed" => "danger",
        "running" => "progress",
        _ => "neutral",
    };

    /// <summary>"812 KiB", "1.4 GiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return (unit == 0 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.#", CultureInfo.InvariantCulture)) + " " + units[unit];
    }
}
