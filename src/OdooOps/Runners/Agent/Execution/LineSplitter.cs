using System.Text;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>
/// Turns the raw bytes of one output stream into lines: invalid UTF-8 becomes U+FFFD instead of throwing, a line longer
/// than <c>maxChars</c> is delivered in pieces, and a trailing "\r" (CRLF output) is dropped.
/// </summary>
internal sealed class LineSplitter
{
    readonly string _stream;
    readonly int _maxChars;
    readonly Action<OutputLine> _deliver;
    // throwOnInvalidBytes: false = replacement fallback; the decoder keeps a split multi-byte character across reads.
    readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    readonly StringBuilder _line = new();
    char[] _chars = new char[8192];

    public LineSplitter(string stream, int maxChars, Action<OutputLine> deliver)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 2);
        _stream = stream;
        _maxChars = maxChars;
        _deliver = deliver;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        var count = _decoder.GetCharCount(bytes, flush: false);
        if (count > _chars.Length) _chars = new char[count];
        var n = _decoder.GetChars(bytes, _chars, flush: false);
        Append(_chars.AsSpan(0, n));
    }

    /// <summary>End of stream: delivers a trailing line that had no newline.</summary>
    public void Complete()
    {
        var n = _decoder.GetChars([], _chars, flush: true);
        Append(_chars.AsSpan(0, n));
        if (_line.Length > 0) Emit();
    }

    void Append(ReadOnlySpan<char> chars)
    {
        while (true)
        {
            var newline = chars.IndexOf('\n');
            AppendBounded(newline < 0 ? chars : chars[..newline]);
            if (newline < 0) return;
            if (_line.Length > 0 && _line[^1] == '\r') _line.Length--;
            Emit();
            chars = chars[(newline + 1)..];
        }
    }

    void AppendBounded(ReadOnlySpan<char> part)
    {
        while (_line.Length + part.Length > _maxChars)
        {
            var take = _maxChars - _line.Length;
            // Never cut a surrogate pair in two: both halves would be invalid text.
            if (take > 0 && char.IsHighSurrogate(part[take - 1])) take--;
            Add(part[..take]);
            Emit();
            part = part[take..];
        }
        Add(part);
    }

    // PostgreSQL text cannot hold NUL, and the lines end up in ops.build_logs.
    void Add(ReadOnlySpan<char> part)
    {
        var start = _line.Length;
        _line.Append(part);
        if (part.Contains('\0')) _line.Replace('\0', '\uFFFD', start, part.Length);
    }

    void Emit()
    {
        _deliver(new OutputLine(_stream, _line.ToString(), DateTimeOffset.UtcNow));
        _line.Clear();
    }
}
