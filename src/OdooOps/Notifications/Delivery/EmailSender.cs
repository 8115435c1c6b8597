using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// An e-mail channel's delivery over SMTP (MailKit): through the channel's own server — reached through
/// <see cref="OutboundGuard"/>, as an organisation admin chose it — or the server's (OPS_SMTP_*, the operator's, trusted).
/// The Message-Id is the event's and the channel's, so a mail sent twice (a redelivery) threads as one. On the server's
/// server the claim has left out the recipients it may not mail (ops_private.notification_recipient_allowed).
/// </summary>
internal sealed class EmailSender(NotificationSettings settings)
{
    /// <param name="ct">Cancelled at the attempt's <paramref name="deadline"/> (or when the server stops); the caller reports that.</param>
    public async Task<DeliveryResult> SendAsync(ClaimedDelivery d, NotificationMessage message, string? password, long started, TimeSpan deadline,
        CancellationToken ct)
    {
        var (server, guarded) = d.SmtpHost is { } host
            ? (new SmtpServer(host, d.SmtpPort ?? 587, d.SmtpTls ?? "auto", d.SmtpUsername, password, d.SmtpFrom ?? ""), !settings.AllowPrivateTargets)
            : (settings.Smtp, false);
        if (server is null)
            return new(false, null, $"This server has no SMTP server ({SmtpServer.HostKey}) and the channel none of its own.", Stopwatch.GetElapsedTime(started));
        if (d.SmtpHost is not null && d.Secret is not null && password is null)
            return new(false, null, "The channel's SMTP password cannot be read (the server's keys changed?): set it again.", Stopwatch.GetElapsedTime(started));

        var recipients = NotificationChannelRules.SplitRecipients(d.Target);
        if (recipients.Length == 0)
            return new(false, null, "None of the channel's recipients may be mailed through this server's SMTP server any more (members only, "
                + $"{NotificationSettings.EmailDomainsKey}): change its recipients or give it its own SMTP server.", Stopwatch.GetElapsedTime(started));

        var mime = new MimeMessage { Subject = message.EmailSubject, Body = new TextPart("plain") { Text = message.EmailText() } };
        mime.From.Add(new MailboxAddress("OdooOps", server.From));
        foreach (var to in recipients) mime.To.Add(MailboxAddress.Parse(to));
        mime.MessageId = $"{d.EventId:N}.{d.ChannelId:N}@notifications.odooops";
        mime.Headers.Add("X-OdooOps-Event", d.Event);
        mime.Headers.Add("X-OdooOps-Event-Id", d.EventId.ToString());
        mime.Headers.Add("Auto-Submitted", "auto-generated");

        using var client = new SmtpClient { Timeout = (int)Math.Min(settings.Timeout.TotalMilliseconds, deadline.TotalMilliseconds) };
        var options = server.Tls switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "starttls" => SecureSocketOptions.StartTls,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.Auto,
        };
        try
        {
            if (guarded)
                await client.ConnectAsync(await OutboundGuard.ConnectAsync(server.Host, server.Port, OutboundGuard.Purpose.Smtp, false, ct), server.Host,
                    server.Port, options, ct);
            else await client.ConnectAsync(server.Host, server.Port, options, ct);
            if (server.Username is not null) await client.AuthenticateAsync(server.Username, server.Password ?? "", ct);
            await client.SendAsync(mime, ct);
            await client.DisconnectAsync(true, ct);
            return new(true, 250, null, Stopwatch.GetElapsedTime(started));
        }
        catch (SmtpCommandException e)
        {
            return new(false, (int)e.StatusCode, NotificationSender.Scrub($"SMTP {(int)e.StatusCode}: {e.Message}", server.Password),
                Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is SmtpProtocolException or AuthenticationException or SslHandshakeException or IOException
                                      or System.Net.Sockets.SocketException or OutboundRefusedException or FormatException)
        {
            // The deadline (a cancellation) is the sender's to report, as for webhooks.
            return new(false, null, NotificationSender.Scrub($"SMTP {server.Host}:{server.Port}: {e.Message}", server.Password), Stopwatch.GetElapsedTime(started));
        }
    }
}
