using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Notifications.Delivery;
using OdooOps.Server;

namespace OdooOps.Notifications;

/// <summary>
/// The rules of a channel's fields, one place for the API, the console and (through the API) the CLI: a request,
/// merged over the channel it changes, becomes a <see cref="ChannelSpec"/> or field errors named as in the JSON body
/// (name, url, secret, recipients, smtp.host, events, …). Which projects a channel may name is the database's rule
/// (ops.save_notification_channel: 22023 naming project_ids).
/// </summary>
internal static partial class NotificationChannelRules
{
    public const int MaxRecipients = 20, MinSecret = 16, MaxSecret = 200;

    public static (ChannelSpec? Spec, Validation Errors) Check(ChannelRequest r, NotificationChannel? current, NotificationSettings settings)
    {
        var v = new Validation();
        var kind = current?.Kind ?? r.Kind?.Trim().ToLowerInvariant();
        if (current is null) v.Required("kind", kind).OneOf("kind", kind, NotificationEvents.Kinds);
        else if (r.Kind is not null && r.Kind.Trim().ToLowerInvariant() != current.Kind) v.Add("kind", $"A channel keeps its kind ({current.Kind}); add a new channel instead.");
        var name = r.Name?.Trim() ?? current?.Name;
        v.Required("name", name, 100);
        if (name is not null && name.Any(char.IsControl)) v.Add("name", "name must be one line of text.");

        var events = r.Events is { } asked ? asked.Select(e => e.Trim().ToLowerInvariant()).Distinct().ToArray() : current?.Events ?? [.. NotificationEvents.Defaults];
        if (events.Length == 0) v.Add("events", "Choose at least one event.");
        foreach (var unknown in events.Where(e => !NotificationEvents.Names.Contains(e)))
            v.Add("events", $"'{unknown}' is not an event; the events are: {string.Join(", ", NotificationEvents.Names)}.");
        var severity = r.MinSeverity?.Trim().ToLowerInvariant() ?? current?.MinSeverity ?? "warning";
        v.OneOf("min_severity", severity, NotificationEvents.Severities);
        var projects = r.ProjectIds is { } ids ? (ids.Count == 0 ? null : ids.Distinct().ToArray()) : current?.ProjectIds;
        if (projects is { Length: > 500 }) v.Add("project_ids", "At most 500 projects; leave it empty for every project.");

        string target = current?.Target ?? "";
        string? secret = null, smtpHost = current?.SmtpHost, smtpTls = current?.SmtpTls, smtpUser = current?.SmtpUsername, smtpFrom = current?.SmtpFrom;
        int? smtpPort = current?.SmtpPort;
        switch (kind)
        {
            case "webhook":
                if (r.Url is not null || current is null) target = Url(v, "url", r.Url, settings)?.AbsoluteUri ?? "";
                if (r.Secret is not null || current is null)
                {
                    secret = r.Secret;
                    if (string.IsNullOrEmpty(secret) || secret.Length is < MinSecret or > MaxSecret || secret.Any(char.IsControl))
                        v.Add("secret", $"secret (the signing secret, e.g. `openssl rand -hex 32`) must be {MinSecret}–{MaxSecret} characters without control characters.");
                }
                break;
            case "slack":
                if (r.Url is not null || current is null)
                {
                    var url = Url(v, "url", r.Url, settings);
                    target = url is null ? "" : ShownSlackUrl(url);
                    secret = url?.AbsoluteUri;
                }
                break;
            case "email":
                if (r.Recipients is not null || current is null)
                {
                    var list = (r.Recipients ?? []).SelectMany(SplitRecipients).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
                    if (list.Length is 0 or > MaxRecipients) v.Add("recipients", $"recipients must be 1–{MaxRecipients} e-mail addresses.");
                    foreach (var bad in list.Where(a => !IsEmail(a))) v.Add("recipients", $"'{bad}' is not an e-mail address.");
                    target = string.Join(", ", list);
                }
                if (r.Smtp is { } smtp) secret = Smtp(v, smtp, current, settings, ref smtpHost, ref smtpPort, ref smtpTls, ref smtpUser, ref smtpFrom);
                if (smtpHost is null && settings.Smtp is null)
                    v.Add("smtp.host", $"This server has no SMTP server ({SmtpServer.HostKey}): give the channel its own.");
                break;
        }
        var enabled = r.Enabled ?? current?.Enabled ?? true;
        // An enabled webhook or Slack channel cannot send without its secret (a demo channel has none): asked for here, not failed on later.
        var secretLeft = secret is { Length: > 0 } || (secret is null && current?.SecretSet == true);
        if (enabled && !secretLeft && kind is "webhook" or "slack" && v.IsValid)
            v.Add(kind == "slack" ? "url" : "secret", kind == "slack"
                ? "url (the Slack or Mattermost incoming webhook's URL) is required to enable the channel: it has none."
                : "secret (the signing secret) is required to enable the channel: it has none.");
        if (!v.IsValid) return (null, v);
        return (new ChannelSpec(name!, kind!, target, smtpHost, smtpPort, smtpTls, smtpUser, smtpFrom, events, projects, severity,
            enabled, secret), v);
    }

    /// <summary>The channel's own SMTP server; answers the password to store (null keeps, "" removes: a new host never gets the old one).</summary>
    static string? Smtp(Validation v, SmtpRequest s, NotificationChannel? current, NotificationSettings settings,
        ref string? host, ref int? port, ref string? tls, ref string? user, ref string? from)
    {
        if (s.Host is { } h && h.Trim() == "")
        {
            (host, port, tls, user, from) = (null, null, null, null, null);
            return current?.SecretSet == true ? "" : null;
        }
        var newHost = s.Host?.Trim().ToLowerInvariant() ?? host;
        if (newHost is null) { v.Add("smtp.host", "smtp.host is required for the channel's own SMTP server."); return null; }
        if (!HostPattern().IsMatch(newHost) && !IPAddress.TryParse(newHost, out _)) v.Add("smtp.host", "smtp.host must be a host name or an IP address.");
        else if (!settings.AllowPrivateTargets && OutboundGuard.IsPrivateLiteral(newHost, settings.OwnAddresses))
            v.Add("smtp.host", $"smtp.host may not be a loopback, private or this server's own address ({NotificationSettings.AllowPrivateKey}).");
        port = s.Port ?? port ?? 587;
        if (port is < 1 or > 65535) v.Add("smtp.port", "smtp.port must be from 1 to 65535.");
        else if (!OutboundGuard.PortAllowed(port.Value, OutboundGuard.Purpose.Smtp))
            v.Add("smtp.port", $"smtp.port must be {OutboundGuard.PortRule(OutboundGuard.Purpose.Smtp)}.");
        tls = s.Tls?.Trim().ToLowerInvariant() ?? tls ?? "auto";
        v.OneOf("smtp.tls", tls, SmtpServer.TlsModes);
        user = s.Username is null ? user : s.Username.Trim() == "" ? null : s.Username.Trim();
        from = s.From?.Trim() ?? from;
        if (from is null || !IsEmail(from)) v.Add("smtp.from", "smtp.from (the sender address) must be an e-mail address.");
        if (s.Password is { Length: > 1000 }) v.Add("smtp.password", "smtp.password is too long.");
        var hostChanged = current?.SmtpHost is { } old && old != newHost;
        host = newHost;
        return s.Password is { Length: > 0 } p ? p : hostChanged && current!.SecretSet ? "" : null;
    }

    static Uri? Url(Validation v, string field, string? raw, NotificationSettings settings)
    {
        if (string.IsNullOrWhiteSpace(raw)) { v.Add(field, $"{field} is required."); return null; }
        if (raw.Length > 2000 || !Uri.TryCreate(raw.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Host == "")
        {
            v.Add(field, $"{field} must be an absolute http(s) URL.");
            return null;
        }
        if (uri.UserInfo != "") { v.Add(field, $"{field} may not hold a user name or password."); return null; }
        if (!settings.AllowPrivateTargets && OutboundGuard.IsPrivateLiteral(uri.IdnHost, settings.OwnAddresses))
        {
            v.Add(field, $"{field} may not point at a loopback, private or this server's own address ({NotificationSettings.AllowPrivateKey}).");
            return null;
        }
        if (!OutboundGuard.PortAllowed(uri.Port, OutboundGuard.Purpose.Http))
        {
            v.Add(field, $"{field} must use port {OutboundGuard.PortRule(OutboundGuard.Purpose.Http)}.");
            return null;
        }
        return uri;
    }

    /// <summary>A Slack webhook's URL as it may be shown: its host only (the path is the credential).</summary>
    public static string ShownSlackUrl(Uri url) => $"{url.Scheme}://{url.Authority}/…";

    public static string[] SplitRecipients(string text) =>
        text.Split([',', ';', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool IsEmail(string text) => text.Length <= 320 && EmailPattern().IsMatch(text);

    [GeneratedRegex(@"^[^@\s<>,;""()\[\]\\]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")]
    private static partial Regex HostPattern();
}
