using System.Text;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>Removes terminal escape sequences (colours, cursor moves, window titles) from a line of build output.</summary>
internal static class AnsiEscapes
{
    const char Esc = '\x1b', Bell = '\x07';

    public static string Strip(string line)
    {
        if (line.IndexOf(Esc) < 0 && line.IndexOf('\x9b') < 0) return line;
        var text = new StringBuilder(line.Length);
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c == '\x9b') i = AfterCsi(line, i + 1);
            else if (c != Esc) { text.Append(c); i++; }
            else if (i + 1 >= line.Length) i++;
            else i = line[i + 1] switch
            {
                '[' => AfterCsi(line, i + 2),
                ']' or 'P' or 'X' or '^' or '_' => AfterString(line, i + 2),
                // ESC ( B and friends pick a character set: the escape, one intermediate byte and a final byte.
                >= ' ' and <= '/' => Math.Min(line.Length, i + 3),
                _ => i + 2,
            };
        }
        return text.ToString();
    }

    /// <summary>CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.</summary>
    static int AfterCsi(string line, int i)
    {
        while (i < line.Length && line[i] is >= '0' and <= '?') i++;
        while (i < line.Length && line[i] is >= ' ' and <= '/') i++;
        return i < line.Length && line[i] is >= '@' and <= '~' ? i + 1 : i;
    }

    /// <summary>OSC and other string sequences end at BEL or ESC \ (an unterminated one runs to the end of the line).</summary>
    static int AfterString(string line, int i)
    {
        for (; i < line.Length; i++)
        {
            if (line[i] == Bell) return i + 1;
            if (line[i] == Esc && i + 1 < line.Length && line[i + 1] == '\\') return i + 2;
        }
        return line.Length;
    }
}
