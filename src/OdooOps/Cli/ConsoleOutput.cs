using System.Text.Json;

namespace OdooOps.Cli;

/// <summary>How client verbs print: aligned tables for people, indented snake_case JSON for scripts, colour only on a terminal.</summary>
internal static class ConsoleOutput
{
    /// <summary>Colour when stdout is a terminal and NO_COLOR (no-color.org) is unset.</summary>
    public static bool UseColour => !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public static string Paint(string text, string ansi) => UseColour ? $"\u001b[{ansi}m{text}\u001b[0m" : text;

    /// <summary>Columns padded to their widest cell; the header in upper case (bold on a terminal).</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows, TextWriter? output = null)
    {
        output ??= Console.Out;
        var all = rows.Select(r => r.Select(c => c ?? "").ToArray()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        string Line(IReadOnlyList<string> cells) =>
            string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        output.WriteLine(Paint(Line([.. headers.Select(h => h.ToUpperInvariant())]), "1"));
        foreach (var row in all) output.WriteLine(Line(row));
    }

    public static void Json<T>(T value) =>
        Console.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions(ApiClient.Json) { WriteIndented = true }));

    /// <summary>"3m ago", "5h ago", "2d ago" — or the date past a month; "" for never.</summary>
    public static string Ago(DateTime? at)
    {
        if (at is not { } t) return "";
        var age = DateTime.UtcNow - DateTime.SpecifyKind(t, DateTimeKind.Utc);
        return age.TotalMinutes < 1 ? "just now"
            : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m ago"
            : age.TotalDays < 1 ? $"{(int)age.TotalHours}h ago"
            : age.TotalDays < 31 ? $"{(int)age.TotalDays}d ago"
            : t.ToString("yyyy-MM-dd");
    }
}
