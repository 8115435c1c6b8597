using System.Diagnostics;
using System.Net;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// An e-mail channel's delivery over SMTP (MailKit): through the channel's own server — reached through
/// <see cref="OutboundGuard"/>, as an organisation admin chose it, and never the operator's relay under another name —
/// or the server's (OPS_SMTP_*, the operator's, trusted). The Message-Id is the event's and the channel's, so a mail
/// sent twice (a redelivery) threads as one. On the server's server the claim has left out the recipients it may not
/// mail (ops_private.notification_recipient_allowed). Once every recipient is accepted the message is as good as
/// written (DATA comes next): a timeout or a broken connection after that leaves the outcome unknown, while the
/// server's own refusal counts — 4xx: try again later, 5xx: failed.
/// </summary>
internal sealed class EmailSender(NotificationSettings settings)
{
    /// <param name="ct">Cancelled at the attempt's <paramref name="deadline"/> (or when the server stops before writing); the caller reports that.</param>
    public async Task<DeliveryResult> SendAsync(ClaimedDelivery d, NotificationMessage message, string? password, AttemptTrace trace, long started,
        TimeSpan deadline, CancellationToken ct)
    {
        var own = d.SmtpHost is { } host ? new SmtpServer(host, d.SmtpPort ?? 587, d.SmtpTls ?? "auto", d.SmtpUsername, password, d.SmtpFrom ?? "") : null;
        var server = own ?? settings.Smtp;
        DeliveryResult NotSent(string error) => new(DeliveryOutcome.Retry, null, error, Stopwatch.GetElapsedTime(started));
        if (server is null) return NotSent($"This server has no SMTP server ({SmtpServer.HostKey}) and the channel none of its own.");
        if (own is not null && d.Secret is not null && password is null)
            return NotSent("The channel's SMTP password cannot be read (the server's keys changed?): set it again.");
        if (own is not null && settings.Smtp is { } relay && SameHost(own.Host, relay.Host))
            return NotSent(RelayRefusal);

        var recipients = NotificationChannelRules.SplitRecipients(d.Target);
        if (recipients.Length == 0)
            return NotSent("None of the channel's recipients may be mailed through this server's SMTP server any more (members only, "
                + $"{NotificationSettings.EmailDomainsKey}): change its recipients or give it its own SMTP server.");

        var mime = new MimeMessage { Subject = message.EmailSubject, Body = new TextPart("plain") { Text = message.EmailText() } };
        mime.From.Add(new MailboxAddress("OdooOps", server.From));
        foreach (var to in recipients) mime.To.Add(MailboxAddress.Parse(to));
        mime.MessageId = $"{d.EventId:N}.{d.ChannelId:N}@notifications.odooops";
        mime.Headers.Add("X-OdooOps-Event", d.Event);
        mime.Headers.Add("X-OdooOps-Event-Id", d.EventId.ToString());
        mime.Headers.Add("Auto-Submitted", "auto-generated");

        var timeout = settings.Timeout < deadline ? settings.Timeout : deadline;
        using var client = new TracedSmtpClient(trace, recipients.Length) { Timeout = (int)timeout.TotalMilliseconds };
        var options = server.Tls switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "starttls" => SecureSocketOptions.StartTls,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.Auto,
        };
        try
        {
            if (own is not null)
                await client.ConnectAsync(await OutboundGuard.ConnectAsync(own.Host, own.Port, OutboundGuard.Purpose.Smtp, settings, ct,
                    await RelayAddressesAsync(settings.Smtp, ct)), own.Host, own.Port, options, ct);
            else await client.ConnectAsync(server.Host, server.Port, options, ct);
            if (server.Username is not null) await client.AuthenticateAsync(server.Username, server.Password ?? "", ct);
            await client.SendAsync(mime, ct);
        }
        catch (SmtpCommandException e)
        {
            // The server's answer: before the message was written anything is worth another try; after, only a transient (4xx) one.
            var code = (int)e.StatusCode;
            return new(!trace.Written || code is >= 400 and < 500 ? DeliveryOutcome.Retry : DeliveryOutcome.Failed, code,
                NotificationSender.Scrub($"SMTP {code}: {e.Message}", server.Password, settings.Smtp?.Password), Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The deadline (a cancellation) is the sender's to report, as for webhooks.
            var reason = $"SMTP {server.Host}:{server.Port}: {NotificationSender.Describe(e)}";
            if (trace.Written)
                reason = IsTimeout(e) ? $"no answer within {timeout.TotalSeconds:0} s from SMTP {server.Host}:{server.Port}" : $"then the connection failed ({reason})";
            return trace.NoAnswer(NotificationSender.Scrub(reason, server.Password, settings.Smtp?.Password), started);
        }
        // Accepted: a QUIT that fails now changes nothing (it must not make the mail count as failed, and be sent again).
        try { await client.DisconnectAsync(true, ct); }
        catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException
                                      or System.Net.Sockets.SocketException) { }
        return new(DeliveryOutcome.Delivered, 250, null, Stopwatch.GetElapsedTime(started));
    }

    const string RelayRefusal = "The channel's own SMTP server is this server's (" + SmtpServer.HostKey
        + "): give it another, or none to send through this server's to members only.";

    /// <summary>Whether two host names are the same (case, a trailing dot and IPv6 brackets aside).</summary>
    static bool SameHost(string a, string b) =>
        string.Equals(a.Trim().Trim('[', ']').TrimEnd('.'), b.Trim().Trim('[', ']').TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    /// <summary>The operator's relay's addresses, which a channel's own SMTP server may not be (none when there is no relay or it does not resolve now).</summary>
    static async Task<IPAddress[]> RelayAddressesAsync(SmtpServer? relay, CancellationToken ct)
    {
        if (relay is null) return [];
        try { return await OutboundGuard.AddressesAsync(relay.Host, ct); }
        catch (System.Net.Sockets.SocketException) { return []; }
    }

    /// <summary>
    /// Why a channel may not name <paramref name="host"/> as its own SMTP server: it is the operator's relay (the same
    /// name, or an address in common), through which it would mail anyone in the operator's name. Null when it may
    /// (also when a name does not resolve now: the connection is checked again when sending).
    /// </summary>
    public static async Task<string?> OwnServerRefusalAsync(SmtpServer? relay, string host, CancellationToken ct)
    {
        if (relay is null) return null;
        if (SameHost(host, relay.Host)) return RelayRefusal;
        using var lookup = CancellationTokenSource.CreateLinkedTokenSource(ct);
        lookup.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var theirs = await OutboundGuard.AddressesAsync(host, lookup.Token);
            var ours = await RelayAddressesAsync(relay, lookup.Token);
            return theirs.Any(a => ours.Any(o => Normal(o).Equals(Normal(a)))) ? RelayRefusal : null;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    static IPAddress Normal(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    static bool IsTimeout(Exception e) =>
        e is TimeoutException || e.InnerException is TimeoutException || e is IOException { InnerException: System.Net.Sockets.SocketException
        {
            SocketErrorCode: System.Net.Sockets.SocketError.TimedOut,
        } };

    /// <summary>A client that tells the attempt's trace when the last recipient is accepted: the message itself comes next.</summary>
    sealed class TracedSmtpClient(AttemptTrace trace, int recipients) : SmtpClient
    {
        int _accepted;

        protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            base.OnRecipientAccepted(message, mailbox, response);
            if (++_accepted >= recipients) trace.Writes();
        }
    }
}
