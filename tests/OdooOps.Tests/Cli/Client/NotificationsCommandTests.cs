using System.Text.Json;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Notifications;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops notifications channels list|add|remove|test` and `notifications deliveries`: the real binary against a live
/// server and real receivers. Secrets come from stdin and are never printed; a member below admin gets the API's one-line
/// refusal.
/// </summary>
public sealed class NotificationsCommandTests(NotificationWorld world) : IClassFixture<NotificationWorld>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Task<CliRunner.Result> RunAs(string who, string? stdin, params string[] args) =>
        _sandbox.RunAsync(["notifications", .. args], env: new Dictionary<string, string> { ["ODOOOPS_URL"] = world.Server.Url, ["ODOOOPS_TOKEN"] = world.Token(who) },
            stdin: stdin);

    [Fact]
    public async Task An_admin_adds_tests_lists_and_removes_a_webhook_and_reads_and_redelivers_its_deliveries()
    {
        await using var hooks = await HookReceiver.StartAsync();
        const string secret = "cli-signing-secret-0123456789";
        var added = await RunAs("admin", secret + "\n", "channels", "add", "--name", "cli hook", "--kind", "webhook", "--url", hooks.Url + "/cli",
            "--secret-stdin", "--events", "build.failed,advisory.opened", "--projects", "erp", "--min-severity", "critical");
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.Contains("Added the webhook channel cli hook", added.Output);
        Assert.DoesNotContain(secret, added.Output + added.Error);
        Assert.Equal("critical", await world.ScalarAsync<string>("select min_severity from ops.notification_channels where name = 'cli hook'"));
        Assert.Equal([world.Erp], await world.ScalarAsync<Guid[]>("select project_ids from ops.notification_channels where name = 'cli hook'"));

        var test = await RunAs("admin", null, "channels", "test", "cli hook");
        Assert.True(test.ExitCode == 0, test.Output + test.Error);
        Assert.StartsWith("Delivered (200)", test.Output);
        Assert.True(HookReceiver.SignatureValid(await hooks.WaitForAsync(_ => true), secret));

        var list = await RunAs("admin", null, "channels", "list", "--org", "acme");
        var row = list.Output.Split('\n').Single(l => l.Contains("cli hook"));
        Assert.Contains("ok", row);
        Assert.Contains("build.failed,advisory.opened", row);
        Assert.DoesNotContain(secret, list.Output);

        var log = await RunAs("admin", null, "deliveries", "cli hook", "--json");
        Assert.True(log.ExitCode == 0, log.Error);
        var delivery = JsonDocument.Parse(log.Output).RootElement.GetProperty("deliveries")[0];
        Assert.Equal(("notification.test", "delivered"), (delivery.GetProperty("event").GetString(), delivery.GetProperty("status").GetString()));
        var again = await RunAs("admin", null, "deliveries", "cli hook", "--redeliver", delivery.GetProperty("id").GetString()!);
        Assert.True(again.ExitCode == 0, again.Output + again.Error);
        Assert.Equal(2, hooks.All.Count);

        var removed = await RunAs("admin", null, "channels", "remove", "cli hook");
        Assert.True(removed.ExitCode == 0, removed.Error);
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.notification_channels where name = 'cli hook'"));
    }

    [Fact]
    public async Task Bad_input_and_a_member_below_admin_get_one_line_errors()
    {
        var bad = await RunAs("admin", "short\n", "channels", "add", "--name", "bad", "--kind", "webhook", "--url", "https://hooks.example.com/x", "--secret-stdin");
        Assert.Contains("secret", CliSandbox.OneLineError(bad));
        var viewer = await RunAs("viewer", null, "channels", "list");
        Assert.Contains("admin role or higher", CliSandbox.OneLineError(viewer));
        var unknown = await RunAs("admin", null, "channels", "test", "no such channel");
        Assert.Contains("No notification channel 'no such channel'", CliSandbox.OneLineError(unknown));
    }

    [Fact]
    public async Task Tests_past_the_ration_get_the_apis_one_line_refusal()
    {
        var id = (await world.AddChannelAsync(new { name = "cli rationed", kind = "webhook", url = "https://hooks.example.com/cli", secret = "0123456789abcdef0123" }))
            .GetProperty("id").GetGuid();
        for (var i = 0; i < 5; i++)
        {
            var queued = await RunAs("admin", null, "channels", "test", id.ToString(), "--no-wait");
            Assert.True(queued.ExitCode == 0, queued.Error);
        }
        var refused = await RunAs("admin", null, "channels", "test", id.ToString(), "--no-wait");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("already had 5 tests and redeliveries in the last 10 minutes", CliSandbox.OneLineError(refused));
    }

    [Fact]
    public async Task Redeliveries_past_the_ration_get_the_apis_one_line_refusal()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var id = (await world.AddChannelAsync(new { name = "cli redelivered", kind = "webhook", url = hooks.Url + "/in", secret = "0123456789abcdef0123" }))
            .GetProperty("id").GetGuid();
        var test = await RunAs("admin", null, "channels", "test", id.ToString());
        Assert.True(test.ExitCode == 0, test.Output + test.Error);
        var delivery = await world.ScalarAsync<Guid>("select id from ops.notification_deliveries where channel_id = @id", new { id });
        // The channel's other four sends of the last minutes, as if made before.
        await world.ExecuteAsync("""
            insert into ops_private.notification_sends (org_id, channel_id, kind) select @Acme, @id, 'redeliver' from generate_series(1, 4)
            """, new { world.Acme, id });
        var refused = await RunAs("admin", null, "deliveries", id.ToString(), "--redeliver", delivery.ToString());
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("already had 5 tests and redeliveries in the last 10 minutes", CliSandbox.OneLineError(refused));
        Assert.Single(hooks.All);
    }
}
