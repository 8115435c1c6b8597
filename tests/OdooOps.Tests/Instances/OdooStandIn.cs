using System.Text.RegularExpressions;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The stand-in odoo-bin (tests/odoo-standin/odoo-bin, embedded in this assembly): a Python script that behaves like
/// Odoo 16-19 from the outside, for tests that need an Odoo where none can be installed. See docs/odoo-standin.md.
/// </summary>
public static class OdooStandIn
{
    const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Odoo's log line: <c>2026-12-05 02:13:43,123 4321 INFO dbname odoo.modules.loading: message</c> (UTC, pid, level, db or ?, logger).</summary>
    public static readonly Regex LogLine = new(
        @"^(?<date>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?<pid>\d+) (?<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) (?<db>\S+) (?<logger>[\w.]+): (?<message>.*)$");

    /// <summary>
    /// Odoo's werkzeug request line: <c>… INFO db werkzeug: 10.0.2.2 - - [05/Dec/2026 02:13:43] "GET /web/login HTTP/1.1" 200 - 3 0.002 0.011</c>
    /// (queries, seconds in queries, the rest of the seconds).
    /// </summary>
    public static readonly Regex RequestLine = new(
        @"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} (?<pid>\d+) INFO (?<db>\S+) werkzeug: (?<ip>[0-9a-f.:]+) - - " +
        @"\[\d{2}/[A-Z][a-z]{2}/\d{4} \d{2}:\d{2}:\d{2}\] ""(?<method>[A-Z]+) (?<path>\S+) HTTP/1\.[01]"" (?<status>\d{3}) - " +
        @"(?<queries>\d+) (?<query_time>\d+\.\d{3}) (?<remaining>\d+\.\d{3})$");

    /// <summary>The script's text.</summary>
    public static string Script { get; } = Read();

    /// <summary>
    /// Writes <c>&lt;folder&gt;/odoo/odoo-bin</c> (folder and script mode 0755: builds and instances run as other uids)
    /// and returns its path. Odoo's tree is then <c>&lt;folder&gt;/odoo</c>, where an <c>addons</c> folder may hold
    /// modules every build sees, as Odoo's own addons.
    /// </summary>
    public static string Install(string folder)
    {
        var tree = Directory.CreateDirectory(Path.Combine(folder, "odoo")).FullName;
        File.SetUnixFileMode(tree, Mode0755);
        var path = Path.Combine(tree, "odoo-bin");
        File.WriteAllText(path, Script);
        File.SetUnixFileMode(path, Mode0755);
        return path;
    }

    static string Read()
    {
        using var stream = typeof(OdooStandIn).Assembly.GetManifestResourceStream("odoo-standin/odoo-bin")
            ?? throw new InvalidOperationException("The stand-in odoo-bin is not embedded in the test assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
