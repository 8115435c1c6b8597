using System.Globalization;
using System.Numerics;
using System.Text;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>Kinds of <see cref="PythonToken"/>; Newline only appears outside brackets, where Python ends a statement.</summary>
enum PythonTokenKind { String, Bytes, Integer, Float, Name, Symbol, Newline, End }

/// <summary>One token: its kind, its value (text, BigInteger or double) and where it starts (1-based).</summary>
sealed record PythonToken(PythonTokenKind Kind, object Value, int Line, int Column)
{
    public string Describe() => Kind switch
    {
        PythonTokenKind.End => "end of file",
        PythonTokenKind.Newline => "end of line",
        PythonTokenKind.String or PythonTokenKind.Bytes => "a string",
        _ => $"'{Value}'",
    };
}

/// <summary>
/// Splits the literal subset of Python used by Odoo manifests into tokens: strings with their prefixes and escapes
/// decoded, numbers, names, single-character symbols. Comments and line continuations are dropped here.
/// </summary>
sealed class PythonTokenizer(string text)
{
    readonly PythonPositions positions = new(text);
    int pos;
    int depth;

    public IEnumerable<PythonToken> Tokens()
    {
        while (true)
        {
            var token = Next();
            yield return token;
            if (token.Kind == PythonTokenKind.End) yield break;
        }
    }

    PythonToken Next()
    {
        while (pos < text.Length)
        {
            var c = text[pos];
            if (c is ' ' or '\t' or '\f') pos++;
            else if (c == '#') { while (pos < text.Length && text[pos] is not ('\n' or '\r')) pos++; }
            else if (c == '\\' && NewlineLength(pos + 1) > 0) pos += 1 + NewlineLength(pos + 1);
            else if (c is '\n' or '\r')
            {
                var start = pos;
                pos += NewlineLength(pos);
                if (depth == 0) return Token(PythonTokenKind.Newline, "\n", start);
            }
            else return Significant();
        }
        return Token(PythonTokenKind.End, "", pos);
    }

    PythonToken Significant()
    {
        var start = pos;
        var c = text[pos];
        if (char.IsAsciiDigit(c) || (c == '.' && pos + 1 < text.Length && char.IsAsciiDigit(text[pos + 1]))) return Number();
        if (c == '_' || char.IsLetter(c))
        {
            while (pos < text.Length && (text[pos] == '_' || char.IsLetterOrDigit(text[pos]))) pos++;
            var word = text[start..pos];
            if (pos < text.Length && text[pos] is '\'' or '"') return PrefixedString(word, start);
            return Token(PythonTokenKind.Name, word, start);
        }
        if (c is '\'' or '"') return PrefixedString("", start);
        pos++;
        if (c is '(' or '[' or '{') depth++;
        if (c is ')' or ']' or '}') depth = Math.Max(0, depth - 1);
        return Token(PythonTokenKind.Symbol, c.ToString(), start);
    }

    PythonToken PrefixedString(string prefix, int start)
    {
        var lower = prefix.ToLowerInvariant();
        if (lower.Contains('f') || lower.Contains('t'))
            throw Error(start, $"{prefix}-strings are not allowed: they run code");
        if (lower is not ("" or "r" or "u" or "b" or "br" or "rb"))
            throw Error(start, $"unknown string prefix '{prefix}'");
        var value = new PythonStringReader(text, pos, start, lower.Contains('r'), lower.Contains('b'), Error).Read(out var end);
        pos = end;
        return Token(lower.Contains('b') ? PythonTokenKind.Bytes : PythonTokenKind.String, value, start);
    }

    PythonToken Number()
    {
        var start = pos;
        while (pos < text.Length)
        {
            var c = text[pos];
            var signOfExponent = c is '+' or '-' && text[pos - 1] is 'e' or 'E' && !IsHex(text[start..pos]);
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' || signOfExponent) pos++;
            else break;
        }
        var word = text[start..pos];
        var digits = word.Replace("_", "");
        if (word.Contains("__") || word.EndsWith('_') || word.Contains("_.") || word.Contains("._"))
            throw Error(start, $"invalid number '{word}'");
        if (word.EndsWith('j') || word.EndsWith('J')) throw Error(start, $"complex numbers are not allowed ('{word}')");
        if (IsHex(word) && digits.Length > 2 && BigInteger.TryParse("0" + digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            return Token(PythonTokenKind.Integer, hex, start);
        if (word.Length > 2 && word[0] == '0' && word[1] is 'o' or 'O' or 'b' or 'B')
            return Token(PythonTokenKind.Integer, Radix(digits[2..], word[1] is 'o' or 'O' ? 8 : 2, word, start), start);
        if (digits.All(char.IsAsciiDigit))
        {
            // Python refuses 0123 (ambiguous with old octal) but allows 0, 00, 0_0.
            if (digits.Length > 1 && digits[0] == '0' && digits.Any(d => d != '0'))
                throw Error(start, $"leading zeros are not allowed in '{word}'");
            return Token(PythonTokenKind.Integer, BigInteger.Parse(digits, CultureInfo.InvariantCulture), start);
        }
        if (IsFloat(digits) && double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return Token(PythonTokenKind.Float, number, start);
        throw Error(start, $"invalid number '{word}'");
    }

    static bool IsHex(string word) => word.Length > 1 && word[0] == '0' && word[1] is 'x' or 'X';

    // digits[.digits][e[+-]digits] with digits on at least one side of the point, as Python's float literals.
    static bool IsFloat(string s) => System.Text.RegularExpressions.Regex.IsMatch(s,
        @"^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$") && (s.Contains('.') || s.Contains('e') || s.Contains('E'));

    BigInteger Radix(string digits, int radix, string word, int start)
    {
        if (digits.Length == 0) throw Error(start, $"invalid number '{word}'");
        var value = BigInteger.Zero;
        foreach (var d in digits)
        {
            var v = d - '0';
            if (v < 0 || v >= radix) throw Error(start, $"invalid number '{word}'");
            value = value * radix + v;
        }
        return value;
    }

    int NewlineLength(int at) => at >= text.Length ? 0
        : text[at] == '\r' ? (at + 1 < text.Length && text[at + 1] == '\n' ? 2 : 1)
        : text[at] == '\n' ? 1 : 0;

    PythonToken Token(PythonTokenKind kind, object value, int offset)
    {
        var (line, column) = positions.Of(offset);
        return new PythonToken(kind, value, line, column);
    }

    PythonLiteralException Error(int offset, string problem)
    {
        var (line, column) = positions.Of(offset);
        return new PythonLiteralException(line, column, problem);
    }
}

/// <summary>Turns text offsets into 1-based line and column, counting \n, \r\n and \r as line ends.</summary>
sealed class PythonPositions
{
    readonly List<int> lineStarts = [0];

    public PythonPositions(string text)
    {
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.Length || text[i + 1] != '\n'))) lineStarts.Add(i + 1);
    }

    public (int Line, int Column) Of(int offset)
    {
        var index = lineStarts.BinarySearch(offset);
        if (index < 0) index = ~index - 1;
        return (index + 1, offset - lineStarts[index] + 1);
    }
}
