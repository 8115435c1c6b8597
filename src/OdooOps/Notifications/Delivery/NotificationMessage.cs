using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// What a delivery says, in each channel's form, from the event the trigger wrote: the webhook's JSON (the event's
/// payload under its id, name, time, summary and console link: the same bytes on every attempt), a Slack-compatible
/// message (text and an attachment with fields, which Slack and Mattermost both show) and an e-mail. Console links
/// start at OPS_PUBLIC_URL; without it there are none.
/// </summary>
internal sealed class NotificationMessage
{
    readonly ClaimedDelivery _d;
    readonly JsonObject _data;
    public string? Link { get; }

    public NotificationMessage(ClaimedDelivery delivery, Uri? publicUrl)
    {
        _d = delivery;
        _data = JsonNode.Parse(delivery.Data) as JsonObject ?? [];
        Link = publicUrl is null ? null : publicUrl.AbsoluteUri.TrimEnd('/') + "/" + ConsolePath();
    }

    string? Str(string obj, string prop) => _data[obj]?[prop]?.GetValueKind() is JsonValueKind.String ? _data[obj]![prop]!.GetValue<string>() : _data[obj]?[prop]?.ToJsonString();

    string ConsolePath()
    {
        var org = Uri.EscapeDataString(Str("organisation", "slug") ?? "");
        var project = Uri.EscapeDataString(Str("project", "slug") ?? "");
        var path = _d.Event.Split('.')[0] switch
        {
            "build" => $"app/projects/{project}/builds/{Str("build", "id")}",
            "deployment" => $"app/projects/{project}/deployments",
            "backup" => $"app/projects/{project}/backups",
            "instance" => $"app/projects/{project}/instances/{Str("instance", "id")}",
            "advisory" => "app/advisories",
            _ => "app/settings/notifications",
        };
        return $"{path}?org={org}";
    }

    /// <summary>The outgoing webhook's body (UTF-8 JSON).</summary>
    public byte[] WebhookBody()
    {
        var body = new JsonObject
        {
            ["id"] = _d.EventId.ToString(),
            ["event"] = _d.Event,
            ["created_at"] = DateTime.SpecifyKind(_d.EventCreatedAt, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture),
            ["summary"] = _d.Summary,
            ["url"] = Link,
        };
        foreach (var (key, value) in _data) body[key] = value?.DeepClone();
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }

    /// <summary>The lines that say what happened beyond the summary (Slack's fields, the e-mail's body).</summary>
    public IReadOnlyList<(string Label, string Value)> Details()
    {
        var lines = new List<(string, string?)>
        {
            ("Project", Str("project", "name")),
            ("Branch", Str("branch", "name") is { } b ? $"{b} ({Str("branch", "stage")})" : null),
        };
        switch (_d.Event.Split('.')[0])
        {
            case "build":
                lines.Add(("Commit", Join(Short(Str("build", "commit_sha")), Str("build", "commit_message"))));
                lines.Add(("Detail", Str("build", "result_detail")));
                lines.Add(("Triggered by", Str("build", "triggered_by")));
                break;
            case "deployment":
                lines.Add(("Release", Join(Short(Str("deployment", "commit_sha")), Str("deployment", "kind") == "rollback" ? "(rollback)" : null)));
                lines.Add(("Reason", Str("deployment", "reason")));
                break;
            case "backup":
                lines.Add(("Backup", Str("backup", "kind")));
                lines.Add(("Reason", Str("backup", "verification_reason") ?? Str("backup", "reason")));
                break;
            case "instance":
                lines.Add(("State", Str("instance", "state")));
                lines.Add(("Reason", Str("instance", "reason")));
                if (Str("instance", "down_seconds") is { } down) lines.Add(("Down for", $"{down} s"));
                break;
            case "advisory":
                lines.Add(("Severity", Str("advisory", "severity")));
                lines.Add(("Detail", Str("advisory", "detail")));
                lines.Add(("What to do", Str("advisory", "remediation")));
                break;
            default:
                lines.Add(("Channel", _d.ChannelName));
                lines.Add(("Asked by", Str("test", "requested_by")));
                break;
        }
        return [.. lines.Where(l => !string.IsNullOrWhiteSpace(l.Item2)).Select(l => (l.Item1, l.Item2!))];
    }

    static string? Short(string? sha) => sha is { Length: > 12 } ? sha[..12] : sha;
    static string? Join(string? a, string? b) => string.Join(" ", new[] { a, b }.Where(s => !string.IsNullOrWhiteSpace(s))) is { Length: > 0 } s ? s : null;

    string Color => _d.Event switch
    {
        "build.failed" or "deployment.failed" or "deployment.reverted" or "backup.failed" or "backup.verification_failed" or "instance.down" => "#d13438",
        "advisory.opened" => Str("advisory", "severity") == "critical" ? "#d13438" : "#f2a100",
        "notification.test" => "#6b7280",
        _ => "#2e9e5b",
    };

    /// <summary>A Slack or Mattermost incoming webhook's body: text, and one attachment (colour, title linking to the console, fields).</summary>
    public byte[] SlackBody() => JsonSerializer.SerializeToUtf8Bytes(new JsonObject
    {
        ["text"] = SlackEscape(_d.Summary),
        ["attachments"] = new JsonArray(new JsonObject
        {
            ["fallback"] = SlackEscape(_d.Summary),
            ["color"] = Color,
            ["title"] = SlackEscape($"{NotificationEvents.Label(_d.Event)} · {Str("project", "name") ?? Str("organisation", "name")}"),
            ["title_link"] = Link,
            ["fields"] = new JsonArray([.. Details().Select(f => (JsonNode)new JsonObject
            {
                ["title"] = f.Label, ["value"] = SlackEscape(f.Value.Length > 500 ? f.Value[..500] + "…" : f.Value), ["short"] = f.Value.Length <= 40,
            })]),
            ["footer"] = $"OdooOps · {_d.Event}",
            ["ts"] = new DateTimeOffset(DateTime.SpecifyKind(_d.EventCreatedAt, DateTimeKind.Utc)).ToUnixTimeSeconds(),
        }),
    });

    /// <summary>Slack's three control characters, escaped as its message format asks.</summary>
    static string SlackEscape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    public string EmailSubject => "[OdooOps] " + (_d.Summary.Length > 180 ? _d.Summary[..180] + "…" : _d.Summary);

    public string EmailText()
    {
        var text = new StringBuilder().Append(_d.Summary).Append("\n\n");
        text.Append($"Event: {NotificationEvents.Label(_d.Event)} ({_d.Event})\n");
        foreach (var (label, value) in Details()) text.Append($"{label}: {value}\n");
        if (Link is not null) text.Append($"\nOpen in OdooOps: {Link}\n");
        text.Append($"\n-- \nOdooOps, {Str("organisation", "name")}: sent to the notification channel \"{_d.ChannelName}\". ");
        text.Append("Its owners and admins choose its events under Settings → Notifications.\n");
        return text.ToString();
    }
}
