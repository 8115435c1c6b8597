using System.Text.Json;

namespace OdooOps.Audit.Pages;

/// <summary>How the Audit log page shows an entry: who, the target, and a change's before and after.</summary>
internal static class AuditDisplay
{
    /// <summary>The actor's email, else what acted without a user (system, webhook); a user no longer visible.</summary>
    public static string Who(AuditEntry e) => e.ActorEmail ?? (e.ActorUserId is null ? e.Actor : "a former member");

    /// <summary>The actor filter that finds this actor's entries (null: a user no longer visible cannot be filtered by email).</summary>
    public static string? ActorFilter(AuditEntry e) => e.ActorEmail ?? (e.ActorUserId is null ? e.Actor : null);

    public static string? TargetFilter(AuditEntry e) => e.TargetType is { } type ? e.TargetId is { } id ? $"{type}:{id}" : type : null;

    /// <summary>A target's id as a person reads it: uuids shortened to their first 8 characters.</summary>
    public static string ShortId(string? id) => id is { Length: 36 } && Guid.TryParse(id, out _) ? id[..8] : id ?? "";

    /// <summary>A before or after as one line of key: value pairs ("role: developer"), or the raw JSON when it is not an object.</summary>
    public static string Change(string? json)
    {
        if (string.IsNullOrEmpty(json)) return "";
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return json;
            return string.Join(", ", doc.RootElement.EnumerateObject().Select(p => $"{p.Name}: {Value(p.Value)}"));
        }
        catch (JsonException) { return json; }
    }

    static string Value(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Null => "—",
        _ => v.GetRawText(),
    };
}
