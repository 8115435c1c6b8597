using System.Text;
using System.Text.Json;

namespace OdooOps.Metrics;

/// <summary>
/// Reads an ingest body with Utf8JsonReader, straight from the request's bytes: one pass, no object model, and every
/// problem named by its field ("samples[3].value"), including where a syntax error such as a bare NaN stopped the
/// reader. Strict on purpose: unknown and repeated fields are refused (a typo such as "lables" must not silently drop
/// data), and a value must be a JSON number — not a string, null, boolean, NaN or Infinity.
/// </summary>
internal static class IngestBodyParser
{
    public const int MaxSamples = 10_000;
    public const int MaxLabels = 32;
    public const int MaxLabelKey = 64;
    public const int MaxLabelValue = 256;
    public const int MaxBranchName = 200;

    const string Shape = "{\"project_id\": …, \"ts\": …, \"samples\": [{\"metric\": \"cpu_pct\", \"value\": 45.2}]}";

    /// <summary>Where the reader is, to name the field a problem (or a syntax error) belongs to.</summary>
    readonly record struct Location(string Top, int Index = -1, string? Field = null)
    {
        public string Path => Index < 0 ? Top : Field is null ? $"{Top}[{Index}]" : $"{Top}[{Index}].{Field}";
        public Location In(string field) => Index < 0 ? new(field) : this with { Field = field };
    }

    public static IngestBatch Parse(ReadOnlySpan<byte> body, IngestErrors errors)
    {
        var batch = new IngestBatch();
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
        var at = new Location("body");
        bool hasProject = false, hasTs = false, hasSamples = false;
        var withoutTs = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                errors.Add("body", $"The body must be a JSON object: {Shape}.");
                return batch;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                at = new Location(name);
                reader.Read();
                if ((name == "project_id" && hasProject) || (name == "ts" && hasTs) || (name == "samples" && hasSamples))
                {
                    errors.Add(name, $"{name} is given twice.");
                    reader.Skip();
                    continue;
                }
                switch (name)
                {
                    case "project_id":
                        hasProject = true;
                        if (reader.TokenType == JsonTokenType.String && Guid.TryParse(reader.GetString(), out var id)) batch.ProjectId = id;
                        else Refuse(ref reader, errors, at, "project_id must be the project's id, a UUID string.");
                        break;
                    case "ts":
                        hasTs = true;
                        batch.BatchTs = ReadTimestamp(ref reader, errors, at);
                        break;
                    case "samples":
                        hasSamples = true;
                        ReadSamples(ref reader, body, batch, errors, ref at, ref withoutTs);
                        break;
                    default:
                        Refuse(ref reader, errors, at, $"Unknown field: the body is {Shape}.");
                        break;
                }
                at = new Location("body");
            }
            reader.Read(); // anything after the object is a syntax error, reported below
        }
        catch (JsonException e)
        {
            var hint = at.Field == "value" ? " NaN and Infinity are not JSON numbers: send a finite number." : "";
            errors.Add(at.Path, $"Not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}).{hint}");
            return batch;
        }

        if (!hasProject) errors.Add("project_id", "project_id is required: the project's id (a UUID).");
        if (!hasSamples) errors.Add("samples", "samples is required: an array of {\"metric\": …, \"value\": …} objects.");
        if (!hasTs && withoutTs > 0) errors.Add("ts", $"ts is required unless every sample has its own ts: {IngestTimestamp.Expected}.");
        return batch;
    }

    static void ReadSamples(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, IngestBatch batch, IngestErrors errors, ref Location at, ref int withoutTs)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            Refuse(ref reader, errors, at, "samples must be an array of {\"metric\": …, \"value\": …} objects.");
            return;
        }
        var names = new MetricNames();
        var index = -1;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (++index == MaxSamples)
            {
                errors.Add("samples", $"At most {MaxSamples} samples per request: split the batch.");
                do reader.Skip(); while (reader.Read() && reader.TokenType != JsonTokenType.EndArray);
                return;
            }
            at = new Location("samples", index);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                Refuse(ref reader, errors, at, "Each sample must be an object such as {\"metric\": \"cpu_pct\", \"value\": 45.2}.");
                continue;
            }
            ReadSample(ref reader, body, batch, errors, ref at, names, ref withoutTs);
        }
    }

    static void ReadSample(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, IngestBatch batch, IngestErrors errors, ref Location at, MetricNames names, ref int withoutTs)
    {
        string? metric = null, branch = null, labels = null;
        double value = 0;
        DateTime? ts = null;
        bool hasMetric = false, hasValue = false, hasTs = false, hasBranch = false, hasLabels = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.ValueTextEquals("metric"u8) ? "metric" : reader.ValueTextEquals("value"u8) ? "value"
                : reader.ValueTextEquals("ts"u8) ? "ts" : reader.ValueTextEquals("branch"u8) ? "branch"
                : reader.ValueTextEquals("labels"u8) ? "labels" : null;
            at = at with { Field = field ?? reader.GetString() };
            reader.Read();
            ref var seen = ref hasMetric;
            switch (field)
            {
                case "metric": seen = ref hasMetric; break;
                case "value": seen = ref hasValue; break;
                case "ts": seen = ref hasTs; break;
                case "branch": seen = ref hasBranch; break;
                case "labels": seen = ref hasLabels; break;
                default:
                    Refuse(ref reader, errors, at, "Unknown field: a sample has metric and value, and optionally ts, branch and labels.");
                    continue;
            }
            if (seen)
            {
                Refuse(ref reader, errors, at, $"{field} is given twice.");
                continue;
            }
            seen = true;
            switch (field)
            {
                case "metric": metric = ReadMetric(ref reader, errors, at, names); break;
                case "value": value = ReadValue(ref reader, errors, at); break;
                case "ts": ts = ReadTimestamp(ref reader, errors, at); break;
                case "branch": branch = ReadBranch(ref reader, errors, at); break;
                default: labels = IngestLabels.Read(ref reader, body, errors, at.Path); break;
            }
        }
        at = at with { Field = null };
        if (!hasMetric) errors.Add(at.In("metric").Path, "metric is required.");
        if (!hasValue) errors.Add(at.In("value").Path, "value is required: a finite number.");
        if (!hasTs) withoutTs++;
        // Once anything is wrong the request is refused, so only a clean prefix of samples is kept: the indexes the
        // database names in its refusals then match the body's.
        if (!errors.Any) batch.Add(metric!, value, ts, branch, labels);
    }

    static string? ReadMetric(ref Utf8JsonReader reader, IngestErrors errors, Location at, MetricNames names)
    {
        if (reader.TokenType != JsonTokenType.String)
            return Refuse(ref reader, errors, at, $"metric must be a string such as \"cpu_pct\", not {Describe(reader.TokenType)}.");
        var name = names.Get(ref reader);
        if (MetricNames.IsValid(name)) return name;
        errors.Add(at.Path, $"\"{Clip(name)}\" is not a metric name: it must match ^[a-z][a-z0-9_.]{{0,63}}$ (such as cpu_pct or http.requests).");
        return null;
    }

    static double ReadValue(ref Utf8JsonReader reader, IngestErrors errors, Location at)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when reader.TryGetDouble(out var value) && double.IsFinite(value):
                return value;
            case JsonTokenType.Number:
                errors.Add(at.Path, "value is out of range for a 64-bit floating-point number.");
                return 0;
            case JsonTokenType.String:
                var text = reader.GetString()!.Trim().TrimStart('+', '-').ToLowerInvariant();
                errors.Add(at.Path, text is "nan" or "inf" or "infinity"
                    ? "value must be a finite number: NaN and Infinity are not allowed."
                    : "value must be a JSON number, not a string.");
                return 0;
            default:
                Refuse(ref reader, errors, at, $"value must be a finite number, not {Describe(reader.TokenType)}.");
                return 0;
        }
    }

    static DateTime? ReadTimestamp(ref Utf8JsonReader reader, IngestErrors errors, Location at)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            var parsed = reader.ValueIsEscaped
                ? IngestTimestamp.TryParse(reader.GetString()!, out var ts)
                : IngestTimestamp.TryParse(reader.ValueSpan, out ts);
            if (parsed) return ts;
        }
        Refuse(ref reader, errors, at, $"{at.Field ?? at.Top} must be {IngestTimestamp.Expected}.");
        return null;
    }

    static string? ReadBranch(ref Utf8JsonReader reader, IngestErrors errors, Location at)
    {
        if (reader.TokenType == JsonTokenType.Null) return null; // the production branch, as when absent
        var name = reader.TokenType == JsonTokenType.String ? reader.GetString()! : null;
        if (Server.NulText.In(name)) return Refuse(ref reader, errors, at, Server.NulText.Message(at.Path));
        if (name is { Length: > 0 and <= MaxBranchName } && !name.Any(char.IsWhiteSpace)) return name;
        return Refuse(ref reader, errors, at, "branch must be the name of one of the project's branches (omit it for the production branch).");
    }

    /// <summary>Records the problem and steps over the value, whatever its shape.</summary>
    static string? Refuse(ref Utf8JsonReader reader, IngestErrors errors, Location at, string message)
    {
        errors.Add(at.Path, message);
        reader.Skip();
        return null;
    }

    internal static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.String => "a string",
        JsonTokenType.Null => "null",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        _ => "an array",
    };

    internal static string Clip(string text) => text.Length <= 70 ? text : text[..67] + "…";
}
