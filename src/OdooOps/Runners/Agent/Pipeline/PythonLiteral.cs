using System.Numerics;
using System.Text;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>
/// Reads one Python literal the way Odoo's <c>ast.literal_eval</c> of a manifest does, without any Python: dicts (string
/// keys), lists, tuples, strings (adjacent ones joined), ints, floats, signed numbers, True, False, None. Anything
/// else, a name, a call, an operator, is refused with its line: the text is data and never runs.
/// Values come back as string, long, double, bool, null, <c>IReadOnlyList&lt;object?&gt;</c> (lists and tuples) and
/// <c>IReadOnlyDictionary&lt;string, object?&gt;</c> (later duplicate keys win, as in Python).
/// </summary>
internal sealed class PythonLiteral
{
    const int MaxNesting = 64;
    readonly IEnumerator<PythonToken> tokens;
    PythonToken current;

    PythonLiteral(string text)
    {
        tokens = new PythonTokenizer(text).Tokens().GetEnumerator();
        current = Advance();
    }

    public static object? Parse(string text)
    {
        var parser = new PythonLiteral(text);
        parser.SkipNewlines();
        if (parser.current.Kind == PythonTokenKind.End) throw parser.Error(parser.current, "no value: the text is empty");
        var value = parser.Value(0);
        parser.SkipNewlines();
        if (parser.current.Kind != PythonTokenKind.End) throw parser.Error(parser.current, $"unexpected {parser.current.Describe()} after the value");
        return value;
    }

    object? Value(int nesting)
    {
        var token = current;
        if (nesting > MaxNesting) throw Error(token, $"values nest more than {MaxNesting} levels deep");
        switch (token.Kind)
        {
            case PythonTokenKind.String or PythonTokenKind.Bytes: return Strings();
            case PythonTokenKind.Integer: Advance(); return Integer((BigInteger)token.Value, token);
            case PythonTokenKind.Float: Advance(); return (double)token.Value;
            case PythonTokenKind.Name: return Name(token);
            case PythonTokenKind.Symbol:
                switch ((string)token.Value)
                {
                    case "{": Advance(); return Dict(nesting);
                    case "[": Advance(); return Sequence("]", nesting);
                    case "(": Advance(); return Parenthesised(nesting);
                    case "-" or "+": return Signed(token);
                }
                break;
        }
        throw Error(token, $"unexpected {token.Describe()}: only strings, numbers, True, False, None, dicts, lists and tuples are allowed");
    }

    string Strings()
    {
        var first = current;
        var text = new StringBuilder();
        while (current.Kind is PythonTokenKind.String or PythonTokenKind.Bytes)
        {
            if (current.Kind != first.Kind) throw Error(current, "cannot join bytes and text literals");
            text.Append((string)current.Value);
            Advance();
        }
        return text.ToString();
    }

    object? Name(PythonToken token)
    {
        Advance();
        return (string)token.Value switch
        {
            "True" => true,
            "False" => false,
            "None" => null,
            var name => throw Error(token, $"'{name}' is not allowed: a manifest may only hold literals (strings, numbers, True, False, None, dicts, lists, tuples)"),
        };
    }

    object Signed(PythonToken sign)
    {
        var number = Advance();
        var negative = (string)sign.Value == "-";
        return number.Kind switch
        {
            PythonTokenKind.Integer => (object)Integer(negative ? -(BigInteger)number.Value : (BigInteger)number.Value, Consumed(number)),
            PythonTokenKind.Float => (object)(negative ? -(double)Consumed(number).Value : (double)Consumed(number).Value),
            _ => throw Error(number, $"'{sign.Value}' must be followed by a number, not {number.Describe()}"),
        };
    }

    IReadOnlyDictionary<string, object?> Dict(int nesting)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (!Accept("}"))
        {
            var keyToken = current;
            var key = Value(nesting + 1);
            if (dict.Count == 0 && (Peek(",") || Peek("}"))) throw Error(keyToken, "sets are not supported");
            if (!Accept(":")) throw Error(current, $"expected ':' after a dict key, found {current.Describe()}");
            if (key is not string text) throw Error(keyToken, "dict keys must be strings");
            dict[text] = Value(nesting + 1);
            if (!Accept(",") && !Peek("}")) throw Error(current, $"expected ',' or '}}', found {current.Describe()}");
        }
        return dict;
    }

    IReadOnlyList<object?> Sequence(string close, int nesting)
    {
        var items = new List<object?>();
        while (!Accept(close))
        {
            items.Add(Value(nesting + 1));
            if (!Accept(",") && !Peek(close)) throw Error(current, $"expected ',' or '{close}', found {current.Describe()}");
        }
        return items;
    }

    /// <summary>"( )" is an empty tuple, "(x)" is x (so strings may be split over lines), "(x,)" and "(x, y)" are tuples.</summary>
    object? Parenthesised(int nesting)
    {
        if (Accept(")")) return Array.Empty<object?>();
        var first = Value(nesting + 1);
        if (Accept(")")) return first;
        if (!Accept(",")) throw Error(current, $"expected ',' or ')', found {current.Describe()}");
        var rest = Sequence(")", nesting);
        return new object?[] { first }.Concat(rest).ToList();
    }

    long Integer(BigInteger value, PythonToken token) =>
        value >= long.MinValue && value <= long.MaxValue ? (long)value : throw Error(token, "integer out of range");

    bool Peek(string symbol) => current.Kind == PythonTokenKind.Symbol && (string)current.Value == symbol;

    bool Accept(string symbol)
    {
        if (!Peek(symbol)) return false;
        Advance();
        return true;
    }

    void SkipNewlines()
    {
        while (current.Kind == PythonTokenKind.Newline) Advance();
    }

    PythonToken Consumed(PythonToken token)
    {
        Advance();
        return token;
    }

    PythonToken Advance()
    {
        tokens.MoveNext();
        current = tokens.Current;
        return current;
    }

    PythonLiteralException Error(PythonToken at, string problem) => new(at.Line, at.Column, problem);
}
