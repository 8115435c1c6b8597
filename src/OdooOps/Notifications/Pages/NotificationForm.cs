using Microsoft.AspNetCore.Http;

namespace OdooOps.Notifications.Pages;

/// <summary>
/// The channel form's fields as posted (plain names; several "events" and "projects"), turned into the API's
/// <see cref="ChannelRequest"/> so that the page goes through the same rules. Changing a channel: an empty secret field
/// keeps the stored secret, an empty Slack URL keeps the stored URL, an empty SMTP host goes back to the server's SMTP.
/// </summary>
public sealed record NotificationForm(string Name, string Url, string Recipients, string SmtpHost, string SmtpPort, string SmtpTls,
    string SmtpUsername, string SmtpFrom, string[] Events, string[] Projects, bool AllProjects, string MinSeverity, bool Enabled)
{
    internal static NotificationForm For(NotificationChannel? c) => c is null
        ? new("", "", "", "", "", "auto", "", "", [.. NotificationEvents.Defaults], [], true, "warning", true)
        : new(c.Name, c.Kind == "webhook" ? c.Target : "", string.Join("\n", c.Recipients), c.SmtpHost ?? "", c.SmtpPort?.ToString() ?? "",
            c.SmtpTls ?? "auto", c.SmtpUsername ?? "", c.SmtpFrom ?? "", c.Events, [.. (c.ProjectIds ?? []).Select(p => p.ToString())], c.ProjectIds is null,
            c.MinSeverity, c.Enabled);

    internal static NotificationForm From(IFormCollection f) => new(
        f["name"].ToString(), f["url"].ToString(), f["recipients"].ToString(), f["smtp_host"].ToString().Trim(), f["smtp_port"].ToString().Trim(),
        f["smtp_tls"].ToString(), f["smtp_username"].ToString(), f["smtp_from"].ToString(), [.. f["events"].Select(e => e ?? "")],
        [.. f["projects"].Select(p => p ?? "")], f["scope"] != "some", f["min_severity"].ToString(), f["enabled"] == "on");

    /// <summary>The request this post makes; field errors for what cannot even be read (a port that is not a number).</summary>
    internal ChannelRequest ToRequest(string kind, bool editing, IFormCollection f, out Dictionary<string, string[]> unreadable)
    {
        unreadable = [];
        int? port = null;
        if (SmtpPort != "")
        {
            if (int.TryParse(SmtpPort, out var p)) port = p;
            else unreadable["smtp.port"] = ["smtp.port must be a number (587, 465, 25)."];
        }
        Guid[] projects = [.. Projects.Select(p => Guid.TryParse(p, out var id) ? id : Guid.Empty)];
        if (!AllProjects && projects.Length == 0) unreadable["project_ids"] = ["Choose at least one project, or every project."];
        var secret = f["secret"].ToString();
        var password = f["smtp_password"].ToString();
        SmtpRequest? smtp = kind != "email" ? null
            : SmtpHost == "" ? (editing ? new SmtpRequest("", null, null, null, null, null) : null)
            : new SmtpRequest(SmtpHost, port, SmtpTls, SmtpUsername, password == "" ? null : password, SmtpFrom);
        return new ChannelRequest(Name, kind,
            Url: kind switch { "webhook" => Url, "slack" => Url == "" && editing ? null : Url, _ => null },
            Secret: kind == "webhook" && !(editing && secret == "") ? secret : null,
            Recipients: kind == "email" ? [Recipients] : null, smtp, Events, AllProjects ? [] : projects, MinSeverity, Enabled);
    }
}
