using OdooOps.Notifications;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// The server's own SMTP server is the operator's: an organisation admin may not make it mail arbitrary addresses (a
/// relay for spam in the operator's name). Through it, an e-mail channel names only the organisation's members (of the
/// organisation or one of its projects) and addresses at the domains the operator allows (OPS_NOTIFY_EMAIL_DOMAINS) —
/// refused when saved (naming recipients), and left out when sent if a member has left since. A channel with its own
/// SMTP server may name anyone — but its own server may not be the operator's under another spelling (the same name or
/// an address in common), refused when saved (naming smtp.host) and again when connecting. Real SMTP (aiosmtpd),
/// checked on the envelope.
/// </summary>
public sealed class NotificationEmailRecipientsTests(PostgresCluster cluster) : IAsyncLifetime
{
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    static ChannelRequest Email(string name, string[] recipients, SmtpRequest? smtp = null) =>
        new(name, "email", null, null, recipients, smtp, ["build.failed"], null, null, null);

    [Fact]
    public async Task Through_the_servers_smtp_only_members_and_allowed_domains_are_mailed()
    {
        await using var smtp = await SmtpReceiver.StartAsync();
        var settings = NotificationBench.Settings with
        {
            Smtp = new SmtpServer("127.0.0.1", smtp.Port, "none", null, null, "ops@server.test"), EmailDomains = ["lists.acme.test"],
        };
        var channels = new NotificationChannels(_b.Db, _b.Protector, settings);
        var dev = await Accounts.CreateUserAsync(_b.Owner, "dev@acme.test", _b.Org, "developer");
        var contractor = await Accounts.CreateUserAsync(_b.Owner, "contractor@else.test", null, null);
        await _b.ExecuteAsync("insert into ops.project_members (project_id, user_id, role) values (@Project, @contractor, 'viewer')", new { _b.Project, contractor });

        var refused = Assert.IsType<NotificationChannels.Outcome.Invalid>(
            await channels.SaveAsync(_b.Actor, _b.Org, null, Email("relay", ["admin@acme.test", "victim@example.org"]), CancellationToken.None));
        Assert.Contains("victim@example.org", Assert.Single(refused.Errors.Errors["recipients"]));
        Assert.DoesNotContain("admin@acme.test", refused.Errors.Errors["recipients"][0].Split("not allowed:")[1]);
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops.notification_channels"));

        var saved = Assert.IsType<NotificationChannels.Outcome.Done>(await channels.SaveAsync(_b.Actor, _b.Org, null,
            Email("team", ["admin@acme.test", "Contractor@Else.test", "oncall@lists.acme.test", "dev@acme.test"]), CancellationToken.None));

        // A member who leaves is not mailed any more, though the channel still names them.
        await _b.ExecuteAsync("delete from registry.org_members where user_id = @dev", new { dev });
        Assert.IsType<NotificationChannels.Outcome.Queued>(await channels.TestAsync(_b.Actor, _b.Org, saved.Channel.Id, CancellationToken.None));
        Assert.Equal(1, await _b.Worker(settings).RunOnceAsync(CancellationToken.None));
        var mail = await smtp.WaitForAsync(_ => true);
        Assert.Equal(["admin@acme.test", "Contractor@Else.test", "oncall@lists.acme.test"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.DoesNotContain("dev@acme.test", mail.Headers["X-RcptTo"]);

        // Its own SMTP server (another than the operator's) is the organisation's: anyone.
        Assert.IsType<NotificationChannels.Outcome.Done>(await channels.SaveAsync(_b.Actor, _b.Org, null,
            Email("own server", ["victim@example.org"], new SmtpRequest("127.0.0.2", smtp.Port, "none", null, null, "ops@acme.test")), CancellationToken.None));
    }

    [Fact]
    public async Task A_channel_left_with_no_recipient_it_may_mail_fails_saying_why_and_sends_nothing()
    {
        await using var smtp = await SmtpReceiver.StartAsync();
        var settings = NotificationBench.Settings with { Smtp = new SmtpServer("127.0.0.1", smtp.Port, "none", null, null, "ops@server.test") };
        var channels = new NotificationChannels(_b.Db, _b.Protector, settings);
        var leaver = await Accounts.CreateUserAsync(_b.Owner, "leaver@acme.test", _b.Org, "viewer");
        var saved = Assert.IsType<NotificationChannels.Outcome.Done>(
            await channels.SaveAsync(_b.Actor, _b.Org, null, Email("leaver only", ["leaver@acme.test"]), CancellationToken.None));
        await _b.ExecuteAsync("delete from registry.org_members where user_id = @leaver", new { leaver });
        var delivery = Assert.IsType<NotificationChannels.Outcome.Queued>(
            await channels.TestAsync(_b.Actor, _b.Org, saved.Channel.Id, CancellationToken.None)).Delivery.Id;
        Assert.Equal(1, await _b.Worker(settings).RunOnceAsync(CancellationToken.None));
        Assert.StartsWith("None of the channel's recipients may be mailed through this server's SMTP server", await _b.ErrorAsync(delivery));
        Assert.Empty(smtp.Messages);
    }

    [Fact]
    public async Task A_channel_may_not_name_the_operators_smtp_server_as_its_own_to_mail_anyone()
    {
        await using var smtp = await SmtpReceiver.StartAsync();
        // The operator's relay by name; the channel names it by its address, its name spelt otherwise, or the address itself.
        var settings = NotificationBench.Settings with { Smtp = new SmtpServer("localhost", smtp.Port, "none", null, null, "ops@server.test") };
        var channels = new NotificationChannels(_b.Db, _b.Protector, settings);
        foreach (var host in new[] { "127.0.0.1", "LocalHost", "localhost" })
        {
            var refused = Assert.IsType<NotificationChannels.Outcome.Invalid>(await channels.SaveAsync(_b.Actor, _b.Org, null,
                Email($"relay via {host}", ["victim@example.org"], new SmtpRequest(host, smtp.Port, "none", null, null, "ops@acme.test")), CancellationToken.None));
            Assert.Contains("this server's", Assert.Single(refused.Errors.Errors["smtp.host"]));
        }
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops.notification_channels"));

        // Saved with another host, then pointed at the relay behind the rules' back: refused when connecting, nothing mailed.
        var saved = Assert.IsType<NotificationChannels.Outcome.Done>(await channels.SaveAsync(_b.Actor, _b.Org, null,
            Email("elsewhere", ["victim@example.org"], new SmtpRequest("127.0.0.2", smtp.Port, "none", null, null, "ops@acme.test")), CancellationToken.None));
        await _b.ExecuteAsync("update ops.notification_channels set smtp_host = '127.0.0.1' where id = @Id", new { saved.Channel.Id });
        var delivery = Assert.IsType<NotificationChannels.Outcome.Queued>(
            await channels.TestAsync(_b.Actor, _b.Org, saved.Channel.Id, CancellationToken.None)).Delivery.Id;
        Assert.Equal(1, await _b.Worker(settings).RunOnceAsync(CancellationToken.None));
        Assert.Contains("is this server's own SMTP server (OPS_SMTP_HOST)", await _b.ErrorAsync(delivery));
        Assert.Equal("pending", (await _b.RowAsync(delivery)).Status);
        Assert.Empty(smtp.Messages);
    }
}
