using System.Security.Cryptography;
using System.Text.Json;
using OdooOps.Server;

namespace OdooOps.Webhooks;

/// <summary>One git host's side of the hooks (GitHub, GitLab): how a request proves it knows the project's secret and what its payload asks for.</summary>
internal interface IHookProvider
{
    /// <summary>"github" or "gitlab": names the provider in the audit row ("github push").</summary>
    string Name { get; }

    /// <summary>
    /// Whether the request proves knowledge of <paramref name="key"/> (null: the project is unknown or has no secret,
    /// which must fail after the same work, so that neither case can be told from a wrong secret).
    /// </summary>
    bool Authenticate(string? key, IHeaderDictionary headers, ReadOnlySpan<byte> body);

    /// <summary>Only called for an authenticated request: strangers never learn how the body is judged.</summary>
    HookEvent Read(IHeaderDictionary headers, ReadOnlySpan<byte> body);

    /// <summary>The id the host gives this delivery, the same on its redeliveries; null when none was sent.</summary>
    string? DeliveryId(IHeaderDictionary headers);

    /// <summary>
    /// Whether the signature covers the whole body, so that the body itself identifies a delivery (GitHub: a replay with
    /// another delivery header is still the same signed body). GitLab's token signs nothing.
    /// </summary>
    bool BodyIsSigned { get; }
}

/// <summary>What both providers share: the stand-in key for "no secret", single-valued headers, the JSON body.</summary>
internal static class HookPayload
{
    /// <summary>Verifying against this random key when there is no real one costs the same as a real check and never matches a request.</summary>
    public static readonly byte[] NoKey = RandomNumberGenerator.GetBytes(32);

    public static string? Header(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count == 1 && values[0] is { Length: > 0 } value ? value : null;

    /// <summary>The body as one JSON object, or the reason it is not (named "body", as the ingest endpoint does).</summary>
    public static JsonDocument? Parse(ReadOnlySpan<byte> body, out HookEvent.Invalid? invalid)
    {
        invalid = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            var doc = JsonDocument.ParseValue(ref reader);
            if (reader.Read()) throw new JsonException("text after the JSON value");
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
            invalid = Refuse("body", "The body must be a JSON object.");
        }
        catch (JsonException e)
        {
            invalid = Refuse("body", $"The body is not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')}).");
        }
        return null;
    }

    /// <summary>A string member; absent or null gives null, any other kind is an error naming <paramref name="field"/>.</summary>
    public static string? String(JsonElement parent, string name, string field, Validation errors)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        errors.Add(field, $"{field} must be a string.");
        return null;
    }

    public static string? Required(JsonElement parent, string name, Validation errors)
    {
        if (parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null) return String(parent, name, name, errors);
        errors.Add(name, $"{name} is required.");
        return null;
    }

    public static HookEvent.Invalid Refuse(string field, string message) => new(new Validation().Add(field, message));

    /// <summary>A commit's time (ISO 8601, as both hosts write it); absent or null gives null, anything else is an error.</summary>
    public static DateTimeOffset? Time(JsonElement parent, string name, string field, Validation errors)
    {
        if (String(parent, name, field, errors) is not { } text) return null;
        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var at))
            return at;
        errors.Add(field, $"{field} must be an ISO 8601 time.");
        return null;
    }
}
