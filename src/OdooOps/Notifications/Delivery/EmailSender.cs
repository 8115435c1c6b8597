using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// An e-mail channel's delivery over SMTP (MailKit): through the channel's own server — reached through
/// <see cref="OutboundGuard"/>, as an organisation admin chose it — or the server's (OPS_SMTP_*, the operator's, trusted).
/// The Message-Id is the event's and the channel's, so a mail sent twice (a node died while sending) threads as one.
/// </summary>
internal sealed class EmailSender(NotificationSettings settings)
{
    public async Task<DeliveryResult> SendAsync(ClaimedDelivery d, NotificationMessage message, string? password, long started, CancellationToken ct)
    {
        var (server, guarded) = d.SmtpHost is { } host
            ? (new SmtpServer(host, d.SmtpPort ?? 587, d.SmtpTls ?? "auto", d.SmtpUsername, password, d.SmtpFrom ?? ""), !settings.AllowPrivateTargets)
            : (settings.Smtp, false);
        if (server is null)
            return new(false, null, $"This server has no SMTP server ({SmtpServer.HostKey}) and the channel none of its own.", Stopwatch.GetElapsedTime(started));
        if (d.SmtpHost is not null && d.Secret is not null && password is null)
            return new(false, null, "The channel's SMTP password cannot be read (the server's keys changed?): set it again.", Stopwatch.GetElapsedTime(started));

        var mime = new MimeMessage { Subject = message.EmailSubject, Body = new TextPart("plain") { Text = message.EmailText() } };
        mime.From.Add(new MailboxAddress("OdooOps", server.From));
        foreach (var to in NotificationChannelRules.SplitRecipients(d.Target)) mime.To.Add(MailboxAddress.Parse(to));
        mime.MessageId = $"{d.EventId:N}.{d.ChannelId:N}@notifications.odooops";
        mime.Headers.Add("X-OdooOps-Event", d.Event);
        mime.Headers.Add("X-OdooOps-Event-Id", d.EventId.ToString());
        mime.Headers.Add("Auto-Submitted", "auto-generated");

        using var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        var options = server.Tls switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "starttls" => SecureSocketOptions.StartTls,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.Auto,
        };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Timeout * 2);
            if (guarded)
                await client.ConnectAsync(await OutboundGuard.ConnectAsync(server.Host, server.Port, false, timeout.Token), server.Host, server.Port, options,
                    timeout.Token);
            else await client.ConnectAsync(server.Host, server.Port, options, timeout.Token);
            if (server.Username is not null) await client.AuthenticateAsync(server.Username, server.Password ?? "", timeout.Token);
            await client.SendAsync(mime, timeout.Token);
            await client.DisconnectAsync(true, timeout.Token);
            return new(true, 250, null, Stopwatch.GetElapsedTime(started));
        }
        catch (SmtpCommandException e)
        {
            return new(false, (int)e.StatusCode, NotificationSender.Scrub($"SMTP {(int)e.StatusCode}: {e.Message}", server.Password),
                Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when ((e is OperationCanceledException && !ct.IsCancellationRequested)
                                  || e is SmtpProtocolException or AuthenticationException or SslHandshakeException or IOException
                                      or System.Net.Sockets.SocketException or OutboundRefusedException or FormatException)
        {
            var reason = e is OperationCanceledException ? $"no answer within {settings.Timeout.TotalSeconds * 2:0} s" : e.Message;
            return new(false, null, NotificationSender.Scrub($"SMTP {server.Host}:{server.Port}: {reason}", server.Password), Stopwatch.GetElapsedTime(started));
        }
    }
}
