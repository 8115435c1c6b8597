using System.Text;

namespace OdooOps.Builds.Pages;

/// <summary>
/// A log line's terminal colours as CSS classes: SGR bold (1/22) and the 16 foreground colours (30–37, 90–97, 39
/// default) become <c>ansi-bold</c> and <c>ansi-fg-N</c>; any other escape sequence is dropped. build-log.js does
/// the same in the browser for lines that arrive live, so both render a line alike.
/// </summary>
internal static class AnsiText
{
    public sealed record Segment(string Text, string? Classes);

    const char Esc = '\x1b';

    public static IReadOnlyList<Segment> Segments(string line)
    {
        if (line.IndexOf(Esc) < 0) return [new Segment(line, null)];
        var segments = new List<Segment>();
        var text = new StringBuilder();
        var bold = false;
        int? fg = null;
        var i = 0;
        void Flush()
        {
            if (text.Length == 0) return;
            var classes = string.Join(' ', new[] { bold ? "ansi-bold" : null, fg is { } c ? $"ansi-fg-{c}" : null }.Where(x => x is not null));
            segments.Add(new Segment(text.ToString(), classes.Length == 0 ? null : classes));
            text.Clear();
        }
        while (i < line.Length)
        {
            if (line[i] != Esc) { text.Append(line[i++]); continue; }
            if (i + 1 < line.Length && line[i + 1] == '[')
            {
                var start = i + 2;
                var end = start;
                while (end < line.Length && line[end] is >= '0' and <= '?') end++;
                while (end < line.Length && line[end] is >= ' ' and <= '/') end++;
                if (end < line.Length && line[end] == 'm')
                {
                    Flush();
                    foreach (var code in Codes(line[start..end]))
                        switch (code)
                        {
                            case 0: bold = false; fg = null; break;
                            case 1: bold = true; break;
                            case 22: bold = false; break;
                            case >= 30 and <= 37: fg = code - 30; break;
                            case 39: fg = null; break;
                            case >= 90 and <= 97: fg = code - 90 + 8; break;
                        }
                }
                i = Math.Min(line.Length, end + 1);
            }
            else if (i + 1 < line.Length && line[i + 1] == ']')
            {
                // OSC (window title, hyperlink): up to BEL or ESC \.
                var j = i + 2;
                while (j < line.Length && line[j] != '\x07' && !(line[j] == Esc && j + 1 < line.Length && line[j + 1] == '\\')) j++;
                i = j >= line.Length ? j : line[j] == '\x07' ? j + 1 : j + 2;
            }
            else i = Math.Min(line.Length, i + 2);
        }
        Flush();
        return segments;
    }

    /// <summary>"1;31" → 1, 31; an empty list means reset (ESC [ m). 256-colour and RGB forms (38;5;n, 48;2;r;g;b) are
    /// skipped whole, so their numbers are not misread as colours of their own.</summary>
    static IEnumerable<int> Codes(string parameters)
    {
        if (parameters.Length == 0) { yield return 0; yield break; }
        var parts = parameters.Split(';');
        for (var k = 0; k < parts.Length; k++)
        {
            var n = int.TryParse(parts[k], out var v) ? v : 0;
            if (n is 38 or 48)
            {
                k += k + 1 < parts.Length && parts[k + 1] == "5" ? 2 : k + 1 < parts.Length && parts[k + 1] == "2" ? 4 : 0;
                continue;
            }
            yield return n;
        }
    }

    public static string Plain(string line) => string.Concat(Segments(line).Select(s => s.Text));
}
