using System.Globalization;
using System.Text;

namespace OdooOps.Audit;

/// <summary>
/// The audit log as CSV (RFC 4180), written as the rows arrive. A cell a spreadsheet would run as a formula — one that
/// starts with =, +, -, @, a tab or a carriage return — gets a leading apostrophe, so an action, a target or an email
/// someone chose cannot become a formula on an auditor's machine (CSV injection).
/// </summary>
internal static class AuditCsv
{
    public const string ContentType = "text/csv; charset=utf-8";

    static readonly string[] Header = ["id", "time_utc", "actor", "actor_kind", "action", "target_type", "target_id", "project", "ip", "before", "after"];

    /// <summary>Rows written between flushes: a long export reaches the client steadily, not at the end.</summary>
    const int FlushEvery = 500;

    public static async Task WriteAsync(Stream output, IAsyncEnumerable<AuditEntry> entries, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(Line(Header));
        var n = 0;
        await foreach (var e in entries.WithCancellation(ct))
        {
            await writer.WriteLineAsync(Line([
                e.Id.ToString(CultureInfo.InvariantCulture), e.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                e.ActorEmail ?? e.Actor, e.Actor, e.Action, e.TargetType, e.TargetId, e.ProjectSlug, e.Ip, e.Before, e.After]));
            if (++n % FlushEvery == 0) await writer.FlushAsync(ct);
        }
        await writer.FlushAsync(ct);
    }

    public static string Line(IEnumerable<string?> cells) => string.Join(',', cells.Select(Cell));

    /// <summary>One cell: defused (a leading apostrophe before a formula's first character), then quoted when it must be.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }
}
