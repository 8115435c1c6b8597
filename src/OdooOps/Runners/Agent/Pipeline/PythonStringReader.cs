using System.Globalization;
using System.Text;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>
/// Reads one quoted Python string literal ('…', "…", '''…''', """…""") starting at its opening quote, decoding
/// escapes as Python does (kept as written in raw strings). Bytes are returned as text, one char per byte. An
/// unterminated literal is reported at <paramref name="literalStart"/>, where its prefix starts.
/// </summary>
sealed class PythonStringReader(string text, int start, int literalStart, bool raw, bool bytes, Func<int, string, PythonLiteralException> error)
{
    readonly StringBuilder value = new();
    int pos;

    public string Read(out int end)
    {
        pos = start;
        var quote = text[pos];
        var triple = pos + 2 < text.Length && text[pos + 1] == quote && text[pos + 2] == quote;
        pos += triple ? 3 : 1;
        while (true)
        {
            if (pos >= text.Length) throw error(literalStart, "unterminated string");
            var c = text[pos];
            if (c == quote && (!triple || (pos + 2 < text.Length && text[pos + 1] == quote && text[pos + 2] == quote)))
            {
                end = pos + (triple ? 3 : 1);
                return value.ToString();
            }
            if (c is '\n' or '\r' && !triple) throw error(literalStart, "unterminated string (use ''' or \"\"\" for text on several lines)");
            if (bytes && c > 127) throw error(pos, "bytes literals may only hold ASCII characters");
            if (c == '\\' && pos + 1 < text.Length)
            {
                if (raw) { value.Append(c).Append(text[pos + 1]); pos += 2; }
                else Escape();
            }
            else { value.Append(c); pos++; }
        }
    }

    void Escape()
    {
        var at = pos;
        var c = text[pos + 1];
        pos += 2;
        switch (c)
        {
            case '\n': break;
            case '\r': if (pos < text.Length && text[pos] == '\n') pos++; break;
            case '\\' or '\'' or '"': value.Append(c); break;
            case 'a': value.Append('\a'); break;
            case 'b': value.Append('\b'); break;
            case 'f': value.Append('\f'); break;
            case 'n': value.Append('\n'); break;
            case 'r': value.Append('\r'); break;
            case 't': value.Append('\t'); break;
            case 'v': value.Append('\v'); break;
            case >= '0' and <= '7':
                var octal = c - '0';
                for (var i = 0; i < 2 && pos < text.Length && text[pos] is >= '0' and <= '7'; i++) octal = octal * 8 + (text[pos++] - '0');
                if (bytes && octal > 255) throw error(at, "octal escape above \\377 in a bytes literal");
                value.Append((char)octal);
                break;
            case 'x': Append(Hex(2, at, "\\xXX")); break;
            case 'u' when !bytes: Append(Hex(4, at, "\\uXXXX")); break;
            case 'U' when !bytes: Append(Hex(8, at, "\\UXXXXXXXX")); break;
            case 'N' when !bytes: throw error(at, "\\N{…} escapes are not supported: write the character itself");
            default: value.Append('\\').Append(c); break; // Python keeps unknown escapes as written
        }
    }

    int Hex(int length, int at, string form)
    {
        if (pos + length > text.Length || !int.TryParse(text.AsSpan(pos, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
            || text.AsSpan(pos, length).ContainsAny("+- "))
            throw error(at, $"truncated {form} escape");
        pos += length;
        if (code is < 0 or > 0x10FFFF) throw error(at, $"{form} escape is beyond the last Unicode character");
        return code;
    }

    void Append(int code)
    {
        // Python strings may hold lone surrogates; .NET can hold them as single chars too.
        if (code is >= 0xD800 and <= 0xDFFF || code < 0x10000) value.Append((char)code);
        else value.Append(char.ConvertFromUtf32(code));
    }
}
