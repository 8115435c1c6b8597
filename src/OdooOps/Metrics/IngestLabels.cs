using System.Text;
using System.Text.Json;

namespace OdooOps.Metrics;

/// <summary>
/// A sample's optional labels: a flat object of strings ({"host": "web-1"}), at most 32, keys up to 64 and values up
/// to 256 characters. Once checked, the object's own bytes are passed on as jsonb text (PostgreSQL normalises it),
/// so nothing is re-serialised.
/// </summary>
internal static class IngestLabels
{
    public static string? Read(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, IngestErrors errors, string path)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            errors.Add(path, $"labels must be a flat object of strings such as {{\"host\": \"web-1\"}}, not {IngestBodyParser.Describe(reader.TokenType)}.");
            reader.Skip();
            return null;
        }
        var start = (int)reader.TokenStartIndex;
        var before = errors.Total;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            var at = $"{path}.{IngestBodyParser.Clip(key).Replace("\0", "\\u0000")}";
            reader.Read();
            if (key.Length is 0 or > IngestBodyParser.MaxLabelKey)
                errors.Add(path, $"A label name must have 1 to {IngestBodyParser.MaxLabelKey} characters.");
            else if (Server.NulText.In(key))
                errors.Add(path, Server.NulText.Message("A label name"));
            else if (!keys.Add(key))
                errors.Add(at, "This label is given twice.");
            if (reader.TokenType != JsonTokenType.String)
            {
                errors.Add(at, $"A label's value must be a string, not {IngestBodyParser.Describe(reader.TokenType)}.");
                reader.Skip();
            }
            else if (reader.GetString()!.Length > IngestBodyParser.MaxLabelValue)
                errors.Add(at, $"A label's value may have at most {IngestBodyParser.MaxLabelValue} characters.");
            else if (Server.NulText.In(reader.GetString()))
                errors.Add(at, Server.NulText.Message(at));
        }
        if (keys.Count > IngestBodyParser.MaxLabels) errors.Add(path, $"At most {IngestBodyParser.MaxLabels} labels per sample.");
        if (errors.Total != before) return null;
        return keys.Count == 0 ? null : Encoding.UTF8.GetString(body[start..(int)reader.BytesConsumed]);
    }
}

/// <summary>
/// Metric names: checked against ^[a-z][a-z0-9_.]{0,63}$ without a regex, and the few names a batch repeats
/// (cpu_pct, mem_mb … over and over) reused instead of allocating a string per sample.
/// </summary>
internal sealed class MetricNames
{
    const int Remembered = 16;
    readonly List<(byte[] Utf8, string Name)> _recent = new(Remembered);

    public string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped) return reader.GetString()!;
        var span = reader.ValueSpan;
        foreach (var (utf8, name) in _recent)
            if (span.SequenceEqual(utf8)) return name;
        var text = reader.GetString()!;
        if (_recent.Count < Remembered && IsValid(text)) _recent.Add((span.ToArray(), text));
        return text;
    }

    public static bool IsValid(string name)
    {
        if (name.Length is 0 or > 64 || name[0] is < 'a' or > 'z') return false;
        foreach (var c in name)
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.')) return false;
        return true;
    }
}
