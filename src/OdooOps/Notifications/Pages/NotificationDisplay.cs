namespace OdooOps.Notifications.Pages;

/// <summary>How the console shows channels and deliveries: badge tones and words.</summary>
internal static class NotificationDisplay
{
    public static string StateTone(string state) => state switch
    {
        "ok" => "success",
        "failing" => "danger",
        "disabled" => "",
        _ => "progress-idle",
    };

    public static string StatusTone(string status) => status switch
    {
        "delivered" => "success",
        "failed" => "danger",
        _ => "warning",
    };

    public static string Projects(NotificationChannel c, IReadOnlyList<(Guid Id, string Name, string Slug)> projects) =>
        c.ProjectIds is not { } ids ? "all projects"
        : string.Join(", ", ids.Select(id => projects.FirstOrDefault(p => p.Id == id).Name ?? "a removed project"));

    public static string Events(NotificationChannel c) =>
        c.Events.Length == NotificationEvents.Names.Count ? "every event"
        : c.Events.Length <= 3 ? string.Join(", ", c.Events.Select(NotificationEvents.Label))
        : $"{c.Events.Length} events";

    /// <summary>The one line under a delivery's status: its answer (an SMTP reply for an e-mail channel, an HTTP status otherwise), or why it failed.</summary>
    public static string? Answer(NotificationDelivery d, string kind) =>
        d.Error ?? (d.ResponseCode is { } code ? $"{(kind == "email" ? "SMTP" : "HTTP")} {code}" + (d.DurationMs is { } ms ? $" in {ms} ms" : "") : null);
}
