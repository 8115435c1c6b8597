using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OdooOps.Tests.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// Each kind of channel against a real receiver, driven through the API as an admin would: a Slack-compatible webhook
/// (text and an attachment with fields; its URL is a secret, never shown back), e-mail through a real SMTP server
/// (aiosmtpd) with the channel's own settings or the server's (OPS_SMTP_*), "send a test", and "redeliver" (the same
/// event again, with its id). No answer, audit row, stored ciphertext or log line holds a secret.
/// </summary>
public sealed class NotificationChannelKindsTests(NotificationWorld world, PostgresCluster cluster) : IClassFixture<NotificationWorld>
{
    const string SlackPath = "/services/T0ACME/B0OPS/xoxSecretToken123";
    const string HookSecret = "hook-secret-4f1c9e7a2b6d8e0f";
    const string SmtpPassword = "smtp-password-9d8c7b6a";

    async Task<Guid> TestAsync(Guid channel)
    {
        using var api = world.Api("admin");
        var response = await api.PostAsync($"{world.ChannelsUrl()}/{channel}/test", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task A_slack_channel_gets_text_and_an_attachment_and_its_url_is_never_shown()
    {
        await using var slack = await HookReceiver.StartAsync();
        var created = await world.AddChannelAsync(new { name = "ops-alerts", kind = "slack", url = slack.Url + SlackPath, events = new[] { "build.failed" },
            project_ids = new[] { world.Erp } });
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal(slack.Url + "/…", created.GetProperty("target").GetString());
        Assert.True(created.GetProperty("secret_set").GetBoolean());
        Assert.DoesNotContain("xoxSecretToken123", created.GetRawText());

        var delivery = await TestAsync(id);
        var test = await slack.WaitForAsync(_ => true);
        Assert.Equal(SlackPath, test.Path);
        Assert.Equal("", test.Header("X-OdooOps-Signature-256")); // Slack checks its own URL, not a signature
        Assert.Equal("Org acme: test notification to ops-alerts", test.Json.GetProperty("text").GetString());
        Assert.Equal(("delivered", 1, 200), (await world.DeliveryAsync(delivery)) is var d ? (d.Status, d.Attempts, d.Code) : default);

        var runner = await TestRunner.RegisterAsync(world.Owner, world.Acme, "slack-runner");
        var build = await TestRunner.QueueAsync(world.Owner, world.Erp, "staging", "0123abcd0123abcd");
        await runner.StartAsync(build);
        await runner.FinishAsync(build, "failed", "tests: 3 failed <sale_order>");
        var message = (await slack.WaitForAsync(r => r.Json.GetProperty("text").GetString()!.Contains("build of staging failed"))).Json;
        Assert.Equal("Project erp: build of staging failed: tests: 3 failed &lt;sale_order&gt;", message.GetProperty("text").GetString());
        var attachment = message.GetProperty("attachments")[0];
        Assert.Equal("#d13438", attachment.GetProperty("color").GetString());
        Assert.Equal("Build failed · Project erp", attachment.GetProperty("title").GetString());
        Assert.Equal($"{NotificationWorld.PublicUrl}/app/projects/erp/builds/{build}?org=acme", attachment.GetProperty("title_link").GetString());
        var fields = attachment.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("title").GetString()!, f => f.GetProperty("value").GetString());
        Assert.Equal("staging (staging)", fields["Branch"]);
        Assert.Equal("0123abcd0123 Fix the invoice report", fields["Commit"]);

        using var api = world.Api("admin");
        var listed = await api.GetStringAsync(world.ChannelsUrl());
        Assert.DoesNotContain("xoxSecretToken123", listed);
        Assert.DoesNotContain("xoxSecretToken123", await world.ScalarAsync<string>("select string_agg(coalesce(after::text, '') || coalesce(before::text, ''), ' ') from ops.audit_log"));
        Assert.DoesNotContain("xoxSecretToken123", await world.ScalarAsync<string>("select secret from ops_private.notification_channel_secrets where channel_id = @id", new { id }));
        Assert.DoesNotContain(world.Logs.Lines, l => l.Contains("xoxSecretToken123"));
    }

    [Fact]
    public async Task A_webhook_test_is_signed_and_a_redelivery_sends_the_same_event_again()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var id = (await world.AddChannelAsync(new { name = "bridge", kind = "webhook", url = hooks.Url + "/in", secret = HookSecret,
            events = new[] { "deployment.failed" } })).GetProperty("id").GetGuid();
        var delivery = await TestAsync(id);
        var first = await hooks.WaitForAsync(_ => true);
        Assert.Equal("notification.test", first.Header("X-OdooOps-Event"));
        Assert.True(HookReceiver.SignatureValid(first, HookSecret));
        Assert.Equal("bridge", first.Json.GetProperty("test").GetProperty("channel").GetString());
        Assert.Equal("delivered", (await world.DeliveryAsync(delivery)).Status);

        using var api = world.Api("admin");
        var redeliver = await api.PostAsync($"/api/ops/orgs/{world.Acme}/notification-deliveries/{delivery}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        var second = await hooks.WaitForAsync(r => r != first);
        Assert.Equal(first.Header("X-OdooOps-Event-Id"), second.Header("X-OdooOps-Event-Id"));
        Assert.Equal(first.Header("X-OdooOps-Delivery"), second.Header("X-OdooOps-Delivery"));
        Assert.Equal(first.Body, second.Body); // the same bytes, so the same signature
        Assert.Equal(("delivered", 1), (await world.DeliveryAsync(delivery)) is var d ? (d.Status, d.Attempts) : default);
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'notification_delivery.redeliver' and target_id = @delivery",
            new { delivery = delivery.ToString() }));

        var log = await api.GetFromJsonAsync<JsonElement>($"{world.ChannelsUrl()}/{id}/deliveries");
        var row = Assert.Single(log.GetProperty("deliveries").EnumerateArray());
        Assert.Equal(("notification.test", "delivered", 200), (row.GetProperty("event").GetString(), row.GetProperty("status").GetString(),
            row.GetProperty("response_code").GetInt32()));
        Assert.NotEqual(JsonValueKind.Null, row.GetProperty("redelivered_at").ValueKind);
        Assert.DoesNotContain(HookSecret, await api.GetStringAsync($"{world.ChannelsUrl()}/{id}"));
        Assert.DoesNotContain(HookSecret, await world.ScalarAsync<string>("select secret from ops_private.notification_channel_secrets where channel_id = @id", new { id }));
        Assert.DoesNotContain(world.Logs.Lines, l => l.Contains(HookSecret));
    }

    [Fact]
    public async Task An_email_channel_sends_through_its_own_smtp_server()
    {
        await using var smtp = await SmtpReceiver.StartAsync();
        var created = await world.AddChannelAsync(new
        {
            name = "on-call mail", kind = "email", recipients = new[] { "oncall@acme.test", "cto@acme.test" },
            smtp = new { host = "127.0.0.1", port = smtp.Port, tls = "none", from = "odooops@acme.test" },
            events = new[] { "backup.failed" }, project_ids = new[] { world.Erp },
        });
        Assert.Equal(new[] { "oncall@acme.test", "cto@acme.test" }, created.GetProperty("recipients").EnumerateArray().Select(e => e.GetString()));
        var delivery = await TestAsync(created.GetProperty("id").GetGuid());
        var test = await smtp.WaitForAsync(_ => true);
        Assert.Equal("[OdooOps] Org acme: test notification to on-call mail", test.Subject);
        Assert.Equal(["oncall@acme.test", "cto@acme.test"], test.To.Mailboxes.Select(m => m.Address ?? ""));
        Assert.Equal("odooops@acme.test", test.From.Mailboxes.Single().Address);
        Assert.Equal("notification.test", test.Headers["X-OdooOps-Event"]);
        Assert.Equal(("delivered", 250), (await world.DeliveryAsync(delivery)) is var d ? (d.Status, d.Code) : default);

        var backup = await world.ScalarAsync<Guid>("""
            insert into ops.backups (project_id, branch_id, kind, status)
            select project_id, id, 'daily', 'running' from ops.branches where project_id = @Erp and name = 'main' returning id
            """, new { world.Erp });
        await world.ExecuteAsync("update ops.backups set status = 'failed', reason = 'pg_dump: could not connect' where id = @backup", new { backup });
        var failed = await smtp.WaitForAsync(m => (m.Subject ?? "").Contains("backup of main failed"));
        Assert.Equal("[OdooOps] Project erp: daily backup of main failed: pg_dump: could not connect", failed.Subject);
        Assert.Contains("Reason: pg_dump: could not connect", failed.TextBody);
        Assert.Contains($"Open in OdooOps: {NotificationWorld.PublicUrl}/app/projects/erp/backups?org=acme", failed.TextBody);
    }

    [Fact]
    public async Task An_email_channel_without_its_own_smtp_uses_the_servers_and_its_password_is_never_shown()
    {
        await using var smtp = await SmtpReceiver.StartAsync();
        await using var server = await LiveServer.StartAsync(cluster, "smtp", new Dictionary<string, string?>
        {
            ["OPS_SMTP_HOST"] = "127.0.0.1", ["OPS_SMTP_PORT"] = smtp.Port.ToString(), ["OPS_SMTP_TLS"] = "none", ["OPS_SMTP_FROM"] = "ops@server.test",
        });
        var org = await Accounts.CreateOrgAsync(server.Owner, "mailers");
        var token = await Accounts.CreateTokenAsync(server.Owner, await Accounts.CreateUserAsync(server.Owner, "owner@mailers.test", org, "owner"));
        using var api = new HttpClient { BaseAddress = new Uri(server.Url) }.WithToken(token);
        var list = await api.GetFromJsonAsync<JsonElement>($"/api/ops/orgs/{org}/notification-channels");
        Assert.True(list.GetProperty("server_smtp").GetBoolean());
        // The server's SMTP server is the operator's: it mails the organisation's members, not whoever an admin names.
        var relay = await api.PostAsJsonAsync($"/api/ops/orgs/{org}/notification-channels",
            new { name = "relay", kind = "email", recipients = new[] { "owner@mailers.test", "someone@elsewhere.test" } });
        Assert.Equal(HttpStatusCode.BadRequest, relay.StatusCode);
        Assert.Contains("someone@elsewhere.test", (await relay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("recipients")[0].GetString());
        var response = await api.PostAsJsonAsync($"/api/ops/orgs/{org}/notification-channels",
            new { name = "team", kind = "email", recipients = new[] { "owner@mailers.test" } });
        var channel = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/ops/orgs/{org}/notification-channels/{channel.GetProperty("id")}/test", null)).StatusCode);
        var mail = await smtp.WaitForAsync(_ => true);
        Assert.Equal("ops@server.test", mail.From.Mailboxes.Single().Address);
        Assert.Equal("owner@mailers.test", mail.To.Mailboxes.Single().Address);

        // Its own server with a password: write-only.
        var patched = await api.PatchAsJsonAsync($"/api/ops/orgs/{org}/notification-channels/{channel.GetProperty("id")}",
            new { smtp = new { host = "smtp.mailers.test", port = 587, username = "ops", password = SmtpPassword, from = "ops@mailers.test" } });
        var text = await patched.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.DoesNotContain(SmtpPassword, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("secret_set").GetBoolean());
        Assert.Equal("smtp.mailers.test", JsonDocument.Parse(text).RootElement.GetProperty("smtp_host").GetString());
    }
}
