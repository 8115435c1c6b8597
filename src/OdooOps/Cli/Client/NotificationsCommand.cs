using System.CommandLine;
using OdooOps.Notifications;
using OdooOps.Orgs;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops notifications channels list|add|remove|test` and `odooops notifications deliveries CHANNEL [--redeliver ID]`:
/// an organisation's notification channels and their delivery log over the REST API (owners and admins; the rules, roles
/// and audit rows are the API's). A channel's secret — a webhook's signing secret, a Slack webhook's URL, an SMTP
/// password — is read from stdin, never from a flag (shell history, `ps`), and never printed.
/// </summary>
internal static class NotificationsCommand
{
    public static Command Create()
    {
        var channels = new Command("channels", "An organisation's notification channels: list, add, remove, send a test.");
        channels.Add(List());
        channels.Add(Add());
        channels.Add(Remove());
        channels.Add(Test());
        var notifications = new Command("notifications", "Where your organisation is told what happens (org owners and admins; needs `odooops login`).");
        notifications.Add(channels);
        notifications.Add(Deliveries());
        return notifications;
    }

    static Option<string?> OrgOption() => ProjectsCommand.OrgOption("The organisation's slug or id (default: your only one).");
    static Argument<string> ChannelArgument() => new("CHANNEL") { Description = "The channel's id or name." };
    static string Url(OrgMembership o) => $"api/ops/orgs/{o.Id}/notification-channels";

    static Command List()
    {
        var org = OrgOption();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "The channels with their state (ok, failing, disabled, new), what they send and their last delivery.") { org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(org), ct);
            var list = await api.GetAsync<NotificationsApi.ChannelList>(Url(o), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["channel", "name", "kind", "target", "state", "events", "last delivery"],
                list.Channels.Select(c => (IReadOnlyList<string?>)[c.Id.ToString(), c.Name, c.Kind, c.Target,
                    c.State + (c.FailingSince is { } since ? $" since {ConsoleOutput.Ago(since)}" : ""),
                    c.Events.Length == NotificationEvents.Names.Count ? "all" : string.Join(",", c.Events),
                    c.LastDeliveryAt is null ? "never" : ConsoleOutput.Ago(c.LastDeliveryAt)]));
            if (list.Channels.Count == 0) Console.Error.WriteLine($"No notification channels in {o.Slug}: add one with `odooops notifications channels add`.");
            return 0;
        }));
        return command;
    }

    static Command Add()
    {
        var org = OrgOption();
        var name = new Option<string>("--name") { Description = "The channel's name.", Required = true };
        var kind = new Option<string>("--kind") { Description = "webhook, slack (Slack or Mattermost incoming webhook) or email.", Required = true };
        var url = new Option<string?>("--url") { Description = "webhook: the payload URL (a Slack URL is a secret: give it on stdin with --secret-stdin)." };
        var secretStdin = new Option<bool>("--secret-stdin")
            { Description = "Read the secret from the first line of stdin: the webhook's signing secret, the Slack webhook's URL, or the SMTP password." };
        var recipients = new Option<string?>("--recipients") { Description = "email: comma-separated addresses." };
        var smtpHost = new Option<string?>("--smtp-host") { Description = "email: its own SMTP server (default: the server's, OPS_SMTP_*)." };
        var smtpPort = new Option<int?>("--smtp-port") { Description = "email: its SMTP server's port (587)." };
        var smtpTls = new Option<string?>("--smtp-tls") { Description = "email: auto, starttls, tls or none." };
        var smtpUser = new Option<string?>("--smtp-user") { Description = "email: its SMTP user name (the password with --secret-stdin)." };
        var smtpFrom = new Option<string?>("--smtp-from") { Description = "email: the sender address with its own SMTP server." };
        var events = new Option<string?>("--events") { Description = $"Comma-separated events (default: all but build.succeeded): {string.Join(", ", NotificationEvents.Names)}." };
        var projects = new Option<string?>("--projects") { Description = "Comma-separated project slugs or ids (default: every project)." };
        var severity = new Option<string?>("--min-severity") { Description = "The least advisory severity sent: info, warning (default) or critical." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("add", "Add a channel (org owners and admins); then `channels test` it.")
            { org, name, kind, url, secretStdin, recipients, smtpHost, smtpPort, smtpTls, smtpUser, smtpFrom, events, projects, severity, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var k = parse.GetValue(kind)!.Trim().ToLowerInvariant();
            var secret = parse.GetValue(secretStdin) ? SecretInput.ReadStdinLine("secret") : null;
            using var api = ApiClient.FromConfig();
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(org), ct);
            var projectIds = parse.GetValue(projects) is { } p
                ? await Task.WhenAll(Split(p).Select(async s => (await ProjectResolver.ResolveAsync(api, s, o.Slug, ct)).Id))
                : null;
            var request = new ChannelRequest(parse.GetValue(name), k, k == "slack" ? secret : parse.GetValue(url), k == "webhook" ? secret : null,
                parse.GetValue(recipients) is { } r ? Split(r) : null,
                k == "email" && parse.GetValue(smtpHost) is { } host
                    ? new SmtpRequest(host, parse.GetValue(smtpPort), parse.GetValue(smtpTls), parse.GetValue(smtpUser), secret, parse.GetValue(smtpFrom))
                    : null,
                parse.GetValue(events) is { } e ? Split(e) : null, projectIds, parse.GetValue(severity), null);
            var channel = await api.PostAsync<NotificationChannel>(Url(o), request, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(channel); return 0; }
            Console.WriteLine($"Added the {channel.Kind} channel {channel.Name} ({channel.Id}) to {o.Slug}: {channel.Target}. Try it: odooops notifications channels test {channel.Id}");
            return 0;
        }));
        return command;
    }

    static Command Remove()
    {
        var channel = ChannelArgument();
        var org = OrgOption();
        var command = new Command("remove", "Remove a channel with its delivery log.") { channel, org };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(org), ct);
            var c = await ResolveAsync(api, o, parse.GetValue(channel)!, ct);
            await api.DeleteAsync($"{Url(o)}/{c.Id}", ct);
            Console.WriteLine($"Removed the channel {c.Name} ({c.Id}).");
            return 0;
        }));
        return command;
    }

    static Command Test()
    {
        var channel = ChannelArgument();
        var org = OrgOption();
        var noWait = new Option<bool>("--no-wait") { Description = "Queue the test and return at once instead of waiting for its outcome (up to 60 s)." };
        var command = new Command("test", "Send a test notification; prints its outcome. Exit 0 when delivered, 1 when it failed, 3 when still waiting.")
            { channel, org, noWait };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(org), ct);
            var c = await ResolveAsync(api, o, parse.GetValue(channel)!, ct);
            var delivery = await api.PostAsync<NotificationDelivery>($"{Url(o)}/{c.Id}/test", new { }, ct);
            if (parse.GetValue(noWait)) { Console.WriteLine($"Test queued: delivery {delivery.Id}."); return 0; }
            return await WaitAsync(api, o, delivery, ct);
        }));
        return command;
    }

    /// <summary>Follows a delivery until its attempt is recorded: delivered (0), failed or retrying (1), still waiting (3).</summary>
    static async Task<int> WaitAsync(ApiClient api, OrgMembership o, NotificationDelivery delivery, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (delivery.Attempts == 0 && delivery.Status == "pending" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, ct);
            delivery = await api.GetAsync<NotificationDelivery>($"api/ops/orgs/{o.Id}/notification-deliveries/{delivery.Id}", ct);
        }
        Console.WriteLine(delivery.Status switch
        {
            "delivered" => $"Delivered ({delivery.ResponseCode}) in {delivery.DurationMs} ms.",
            "pending" when delivery.Attempts == 0 => $"Still waiting to be sent: see `odooops notifications deliveries` (delivery {delivery.Id}).",
            _ => $"Not delivered: {delivery.Error ?? delivery.ResponseCode?.ToString() ?? "failed"}" +
                 (delivery.NextAttemptAt is { } next ? $"; next attempt at {next:u}." : "."),
        });
        return delivery.Status == "delivered" ? 0 : delivery.Attempts == 0 ? 3 : 1;
    }

    static Command Deliveries()
    {
        var channel = ChannelArgument();
        var org = OrgOption();
        var status = new Option<string?>("--status") { Description = "Only pending, delivered, failed or unknown ones." };
        var limit = new Option<int>("--limit") { Description = $"How many, newest first (1–{NotificationsApi.MaxLimit}).", DefaultValueFactory = _ => 20 };
        var redeliver = new Option<Guid?>("--redeliver") { Description = "Send this delivered, failed or unknown delivery again, with fresh retries." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("deliveries", "A channel's delivery log: event, status, attempts, the receiver's answer, next retry.")
            { channel, org, status, limit, redeliver, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(org), ct);
            var c = await ResolveAsync(api, o, parse.GetValue(channel)!, ct);
            if (parse.GetValue(redeliver) is { } id)
            {
                var again = await api.PostAsync<NotificationDelivery>($"api/ops/orgs/{o.Id}/notification-deliveries/{id}/redeliver", new { }, ct);
                return await WaitAsync(api, o, again, ct);
            }
            var query = $"limit={parse.GetValue(limit)}" + (parse.GetValue(status) is { } s ? $"&status={Uri.EscapeDataString(s)}" : "");
            var list = await api.GetAsync<NotificationsApi.DeliveryList>($"{Url(o)}/{c.Id}/deliveries?{query}", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["delivery", "event", "status", "attempts", "answer", "when", "next attempt"],
                list.Deliveries.Select(d => (IReadOnlyList<string?>)[d.Id.ToString(), d.Event, d.Status, d.Attempts.ToString(),
                    d.Error ?? d.ResponseCode?.ToString() ?? "—", ConsoleOutput.Ago(d.LastAttemptAt ?? d.CreatedAt),
                    d.NextAttemptAt is { } n && d.Status == "pending" ? $"{n:u}" : "—"]));
            if (list.Deliveries.Count == 0) Console.Error.WriteLine($"Nothing sent to {c.Name} yet.");
            return 0;
        }));
        return command;
    }

    static string[] Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static async Task<NotificationChannel> ResolveAsync(ApiClient api, OrgMembership o, string idOrName, CancellationToken ct)
    {
        var channels = (await api.GetAsync<NotificationsApi.ChannelList>(Url(o), ct)).Channels;
        return (Guid.TryParse(idOrName, out var id) ? channels.FirstOrDefault(c => c.Id == id) : channels.FirstOrDefault(c => c.Name == idOrName))
               ?? throw new ArgumentException($"No notification channel '{idOrName}' in {o.Slug}: see odooops notifications channels list --org {o.Slug}.");
    }
}
