using System.Globalization;
using OdooOps.Ui;

namespace OdooOps.Instances.Pages;

/// <summary>How the console words and colours instances; pure functions, tested without a browser.</summary>
internal static class InstanceDisplay
{
    /// <summary>The badge colour of a state: green running, blue while starting or stopping, yellow unhealthy, red failed,
    /// orange unknown (its runner is silent), grey stopped.</summary>
    public static string StateTone(string state) => state switch
    {
        "running" => "success",
        "starting" or "stopping" => "progress",
        "unhealthy" => "warning",
        "failed" => "danger",
        "unknown" => "expired",
        _ => "neutral",
    };

    /// <summary>The actions a person may ask of it now, in the order offered: nothing once retired; start when asked to
    /// stop; start (a fresh attempt) and stop when failed; else restart and stop.</summary>
    public static IReadOnlyList<string> Offered(Instance i) =>
        !i.CanManage || i.IsRetired ? []
        : i.Desired == "stopped" ? ["start"]
        : i.State == "failed" ? ["start", "stop"]
        : ["restart", "stop"];

    /// <summary>Stop and restart of production take the site down: the console asks first.</summary>
    public static bool NeedsConfirmation(Instance i, string action) => i.IsProduction && action != "start";

    public static string ActionTitle(string action) => action switch { "start" => "Start", "stop" => "Stop", _ => "Restart" };

    public static string Uptime(Instance i) => i.UptimeSeconds is { } s ? UiFormat.Duration(TimeSpan.FromSeconds(s)) : "—";

    public static string ShortSha(string? sha) => sha is null ? "" : sha[..Math.Min(8, sha.Length)];

    /// <summary>A polyline's points for <paramref name="values"/> in a box of <paramref name="width"/> × <paramref name="height"/>
    /// (1 px margin), oldest on the left; a flat series is drawn in the middle; empty for fewer than two values.</summary>
    public static string SparklinePoints(IReadOnlyList<double> values, double width, double height)
    {
        if (values.Count < 2) return "";
        var (min, max) = (values.Min(), values.Max());
        var span = max - min;
        var step = (width - 2) / (values.Count - 1);
        return string.Join(' ', values.Select((v, i) => string.Create(CultureInfo.InvariantCulture,
            $"{1 + i * step:0.#},{(span == 0 ? height / 2 : 1 + (height - 2) * (1 - (v - min) / span)):0.#}")));
    }
}
