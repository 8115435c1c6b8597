using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// /api/ops/orgs/{orgId}/notification-channels and …/notification-deliveries: owners and admins only (members 403, other
/// organisations 404, read-scope tokens may not write), bad input a 400 naming the field with nothing written, another
/// organisation's projects refused, "send a test" answering before anything is sent, redeliveries rationed with the tests
/// (429), and a webhook or Slack channel without its secret (a demo's) not enabled without one.
/// </summary>
public sealed class NotificationsApiTests(NotificationWorld world) : IClassFixture<NotificationWorld>
{
    static object Webhook(string name, object? projects = null) =>
        new { name, kind = "webhook", url = "https://hooks.example.com/odooops", secret = "0123456789abcdef0123", project_ids = projects };

    async Task<long> ChannelCountAsync() => await world.ScalarAsync<long>("select count(*) from ops.notification_channels");

    [Theory]
    [InlineData("viewer")]
    [InlineData("developer")]
    public async Task Members_below_admin_may_neither_see_nor_change_channels(string who)
    {
        var channel = (await world.AddChannelAsync(Webhook($"seen-by-admins-{who}"))).GetProperty("id").GetGuid();
        using var api = world.Api(who);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync(world.ChannelsUrl())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync($"{world.ChannelsUrl()}/{channel}/deliveries")).StatusCode);
        var before = await ChannelCountAsync();
        var post = await api.PostAsJsonAsync(world.ChannelsUrl(), Webhook($"by-{who}"));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Contains("admin role or higher", await post.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await api.PostAsync($"{world.ChannelsUrl()}/{channel}/test", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.DeleteAsync($"{world.ChannelsUrl()}/{channel}")).StatusCode);
        Assert.Equal(before, await ChannelCountAsync());
    }

    [Fact]
    public async Task Owners_and_admins_manage_channels_and_a_read_token_only_reads()
    {
        using var owner = world.Api("owner");
        var created = await world.AddChannelAsync(Webhook("owner-made"), who: "owner");
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal("new", created.GetProperty("state").GetString());
        Assert.Equal(["build.failed", "build.fixed", "deployment.succeeded", "deployment.failed", "deployment.reverted", "backup.failed",
                      "backup.verification_failed", "instance.down", "instance.recovered", "advisory.opened", "advisory.resolved"],
            created.GetProperty("events").EnumerateArray().Select(e => e.GetString())); // build.succeeded is opt-in
        Assert.Equal(JsonValueKind.Null, created.GetProperty("project_ids").ValueKind);

        using var admin = world.Api("admin");
        var patched = await admin.PatchAsJsonAsync($"{world.ChannelsUrl()}/{id}",
            new { events = new[] { "build.failed", "build.succeeded" }, project_ids = new[] { world.Erp }, min_severity = "critical", enabled = false });
        var channel = await patched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(("disabled", "critical", "https://hooks.example.com/odooops"), (channel.GetProperty("state").GetString(),
            channel.GetProperty("min_severity").GetString(), channel.GetProperty("target").GetString()));
        Assert.Equal([world.Erp], channel.GetProperty("project_ids").EnumerateArray().Select(e => e.GetGuid()));
        var list = await admin.GetFromJsonAsync<JsonElement>(world.ChannelsUrl());
        Assert.Contains(list.GetProperty("channels").EnumerateArray(), c => c.GetProperty("id").GetGuid() == id);
        Assert.Equal(12, list.GetProperty("events").GetArrayLength());

        using var read = world.Api("read");
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync(world.ChannelsUrl())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await read.DeleteAsync($"{world.ChannelsUrl()}/{id}")).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = new Uri(world.Server.Url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(world.ChannelsUrl())).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{world.ChannelsUrl()}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{world.ChannelsUrl()}/{id}")).StatusCode);
        Assert.Equal(["notification_channel.create", "notification_channel.update", "notification_channel.delete"],
            (await world.ScalarAsync<string[]>("select array_agg(action order by id) from ops.audit_log where target_id = @id", new { id = id.ToString() })));
    }

    [Fact]
    public async Task Another_organisation_cannot_see_reach_or_name_anything_of_acme()
    {
        var channel = (await world.AddChannelAsync(Webhook("acme-private"))).GetProperty("id").GetGuid();
        using var admin = world.Api("admin");
        var delivery = (await (await admin.PostAsync($"{world.ChannelsUrl()}/{channel}/test", null)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("id").GetGuid();

        using var globex = world.Api("globex");
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync(world.ChannelsUrl())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.PostAsJsonAsync(world.ChannelsUrl(), Webhook("planted"))).StatusCode);
        // Through their own organisation's routes, acme's ids do not exist either.
        var theirs = world.ChannelsUrl(world.Globex);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"{theirs}/{channel}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"{theirs}/{channel}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.PatchAsJsonAsync($"{theirs}/{channel}", new { enabled = false })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.PostAsync($"{theirs}/{channel}/test", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.DeleteAsync($"{theirs}/{channel}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/api/ops/orgs/{world.Globex}/notification-deliveries/{delivery}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.PostAsync($"/api/ops/orgs/{world.Globex}/notification-deliveries/{delivery}/redeliver", null)).StatusCode);
        Assert.True(await world.ScalarAsync<bool>("select enabled from ops.notification_channels where id = @channel", new { channel }));

        // A channel of theirs may not name an acme project (it would learn of acme's events).
        var named = await globex.PostAsJsonAsync(theirs, Webhook("spy", new[] { world.Erp }));
        Assert.Equal(HttpStatusCode.BadRequest, named.StatusCode);
        Assert.True((await named.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("project_ids", out _));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.notification_channels where name = 'spy'"));
    }

    public static TheoryData<string, string> BadChannels => new()
    {
        { """{"kind": "webhook", "url": "https://h.example.com", "secret": "0123456789abcdef"}""", "name" },
        { """{"name": "x", "kind": "pager", "url": "https://h.example.com"}""", "kind" },
        { """{"name": "x", "kind": "webhook", "secret": "0123456789abcdef"}""", "url" },
        { """{"name": "x", "kind": "webhook", "url": "ftp://h.example.com/in", "secret": "0123456789abcdef"}""", "url" },
        { """{"name": "x", "kind": "webhook", "url": "https://user:pw@h.example.com/in", "secret": "0123456789abcdef"}""", "url" },
        { """{"name": "x", "kind": "webhook", "url": "https://h.example.com/in", "secret": "short"}""", "secret" },
        { """{"name": "x", "kind": "webhook", "url": "https://h.example.com/in", "secret": "0123456789abcdef", "events": ["build.exploded"]}""", "events" },
        { """{"name": "x", "kind": "webhook", "url": "https://h.example.com/in", "secret": "0123456789abcdef", "events": []}""", "events" },
        { """{"name": "x", "kind": "webhook", "url": "https://h.example.com/in", "secret": "0123456789abcdef", "min_severity": "loud"}""", "min_severity" },
        { """{"name": "x", "kind": "slack"}""", "url" },
        { """{"name": "x", "kind": "email", "recipients": ["not-an-address"], "smtp": {"host": "smtp.example.com", "from": "a@example.com"}}""", "recipients" },
        { """{"name": "x", "kind": "email", "recipients": ["a@example.com"]}""", "smtp.host" },
        { """{"name": "x", "kind": "email", "recipients": ["a@example.com"], "smtp": {"host": "smtp.example.com", "from": "nobody"}}""", "smtp.from" },
        { """{"name": "x", "kind": "email", "recipients": ["a@example.com"], "smtp": {"host": "smtp.example.com", "port": 70000, "from": "a@example.com"}}""", "smtp.port" },
        { """{"name": "x", "kind": "email", "recipients": ["a@example.com"], "smtp": {"host": "smtp.example.com", "tls": "maybe", "from": "a@example.com"}}""", "smtp.tls" },
    };

    [Theory]
    [MemberData(nameof(BadChannels))]
    public async Task Bad_input_is_a_400_naming_the_field_and_changes_nothing(string body, string field)
    {
        var before = await ChannelCountAsync();
        using var admin = world.Api("admin");
        var response = await admin.PostAsync(world.ChannelsUrl(), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        Assert.Equal(before, await ChannelCountAsync());
    }

    [Fact]
    public async Task A_second_channel_of_the_same_name_and_a_change_of_kind_are_refused()
    {
        var id = (await world.AddChannelAsync(Webhook("twin"))).GetProperty("id").GetGuid();
        using var admin = world.Api("admin");
        var twin = await admin.PostAsJsonAsync(world.ChannelsUrl(), Webhook("twin"));
        Assert.Equal(HttpStatusCode.BadRequest, twin.StatusCode);
        Assert.True((await twin.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("name", out _));
        var kind = await admin.PatchAsJsonAsync($"{world.ChannelsUrl()}/{id}", new { kind = "slack" });
        Assert.Equal(HttpStatusCode.BadRequest, kind.StatusCode);
        Assert.Equal("webhook", await world.ScalarAsync<string>("select kind from ops.notification_channels where id = @id", new { id }));
    }

    [Fact]
    public async Task Send_a_test_answers_before_anything_is_sent_and_a_pending_delivery_cannot_be_redelivered()
    {
        await using var slow = await HookReceiver.StartAsync();
        slow.Delay = TimeSpan.FromSeconds(3);
        var id = (await world.AddChannelAsync(new { name = "slow", kind = "webhook", url = slow.Url, secret = "0123456789abcdef0123" })).GetProperty("id").GetGuid();
        using var admin = world.Api("admin");
        var response = await admin.PostAsync($"{world.ChannelsUrl()}/{id}/test", null);
        var delivery = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // Read in the request's own transaction: no worker could have touched it yet.
        Assert.Equal(("pending", 0, "notification.test"), (delivery.GetProperty("status").GetString(), delivery.GetProperty("attempts").GetInt32(),
            delivery.GetProperty("event").GetString()));
        var deliveryId = delivery.GetProperty("id").GetGuid();
        if ((await world.ScalarAsync<string>("select status from ops.notification_deliveries where id = @deliveryId", new { deliveryId })) == "pending")
        {
            var early = await admin.PostAsync($"/api/ops/orgs/{world.Acme}/notification-deliveries/{deliveryId}/redeliver", null);
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        }
        Assert.Equal("delivered", (await world.DeliveryAsync(deliveryId)).Status);
        var bad = await admin.GetAsync($"{world.ChannelsUrl()}/{id}/deliveries?status=lost&limit=0");
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("status", out _) && errors.TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Tests_are_rationed_per_channel_and_per_organisation_past_which_a_429_with_retry_after_queues_nothing()
    {
        var id = (await world.AddChannelAsync(Webhook("rationed"))).GetProperty("id").GetGuid();
        using var admin = world.Api("admin");
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"{world.ChannelsUrl()}/{id}/test", null)).StatusCode);
        var refused = await admin.PostAsync($"{world.ChannelsUrl()}/{id}/test", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 600);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Too many tests and redeliveries", problem.GetProperty("title").GetString());
        Assert.Contains("This channel already had 5 tests and redeliveries in the last 10 minutes", problem.GetProperty("detail").GetString());
        Assert.Equal(5L, await world.ScalarAsync<long>("select count(*) from ops.notification_deliveries where channel_id = @id", new { id }));

        // Ten minutes on, it may be tested again.
        await world.ExecuteAsync("update ops_private.notification_sends set at = at - interval '10 minutes' where channel_id = @id", new { id });
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"{world.ChannelsUrl()}/{id}/test", null)).StatusCode);

        // New channels do not buy more: the organisation's channels share four times a channel's ration.
        using var globex = world.Api("globex");
        var theirs = world.ChannelsUrl(world.Globex);
        var sent = 0;
        for (var c = 0; c < 5; c++)
        {
            var channel = (await world.AddChannelAsync(Webhook($"spray {c}"), world.Globex, "globex")).GetProperty("id").GetGuid();
            for (var i = 0; i < 5; i++)
                if ((await globex.PostAsync($"{theirs}/{channel}/test", null)).StatusCode == HttpStatusCode.Accepted) sent++;
        }
        Assert.Equal(20, sent);
        Assert.Equal(20L, await world.ScalarAsync<long>("select count(*) from ops.notification_deliveries where org_id = @Globex and event = 'notification.test'", new { world.Globex }));
    }

    [Fact]
    public async Task Redeliveries_past_the_ration_get_a_429_with_retry_after_and_change_nothing()
    {
        // An organisation of its own, so the other tests' sends do not count here.
        var org = await Accounts.CreateOrgAsync(world.Owner, "initech");
        var token = await Accounts.CreateTokenAsync(world.Owner, await Accounts.CreateUserAsync(world.Owner, "admin@initech.test", org, "admin"));
        using var admin = new HttpClient { BaseAddress = new Uri(world.Server.Url) }.WithToken(token);
        await using var hooks = await HookReceiver.StartAsync();
        var response = await admin.PostAsJsonAsync(world.ChannelsUrl(org), new { name = "redelivered", kind = "webhook", url = hooks.Url + "/in", secret = "0123456789abcdef0123" });
        var channel = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var test = await admin.PostAsync($"{world.ChannelsUrl(org)}/{channel}/test", null);
        var delivery = (await test.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal("delivered", (await world.DeliveryAsync(delivery)).Status);
        var redeliver = $"/api/ops/orgs/{org}/notification-deliveries/{delivery}/redeliver";
        for (var i = 0; i < 4; i++) // with the test, the channel's five
        {
            Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync(redeliver, null)).StatusCode);
            Assert.Equal("delivered", (await world.DeliveryAsync(delivery, "delivered")).Status);
        }

        var refused = await admin.PostAsync(redeliver, null);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 600);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Too many tests and redeliveries", problem.GetProperty("title").GetString());
        Assert.Contains("This channel already had 5 tests and redeliveries in the last 10 minutes", problem.GetProperty("detail").GetString());
        Assert.Equal(("delivered", 1), (await world.DeliveryAsync(delivery)) is var d ? (d.Status, d.Attempts) : default);
        Assert.Equal(5, hooks.All.Count);
    }

    [Fact]
    public async Task A_webhook_or_slack_channel_without_its_secret_is_not_enabled_without_one()
    {
        using var admin = world.Api("admin");
        var hook = (await world.AddChannelAsync(Webhook("secretless"))).GetProperty("id").GetGuid();
        var slack = (await world.AddChannelAsync(new { name = "secretless slack", kind = "slack", url = "https://hooks.slack.com/services/T0/B0/x" }))
            .GetProperty("id").GetGuid();
        // As the demo's channels are: disabled, no secret.
        await world.ExecuteAsync("""
            delete from ops_private.notification_channel_secrets where channel_id in (@hook, @slack);
            update ops.notification_channels set secret_set_at = null, enabled = false where id in (@hook, @slack);
            """, new { hook, slack });

        foreach (var (id, field) in new[] { (hook, "secret"), (slack, "url") })
        {
            var enabled = await admin.PatchAsJsonAsync($"{world.ChannelsUrl()}/{id}", new { enabled = true });
            Assert.Equal(HttpStatusCode.BadRequest, enabled.StatusCode);
            var errors = (await enabled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.Contains("required to enable the channel", errors.GetProperty(field)[0].GetString());
            Assert.False(await world.ScalarAsync<bool>("select enabled from ops.notification_channels where id = @id", new { id }));
            // Renamed while disabled: fine; enabled with its secret: fine.
            Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"{world.ChannelsUrl()}/{id}", new { name = $"renamed {field}" })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"{world.ChannelsUrl()}/{hook}",
            new { enabled = true, secret = "0123456789abcdef0123" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"{world.ChannelsUrl()}/{slack}",
            new { enabled = true, url = "https://hooks.slack.com/services/T0/B0/y" })).StatusCode);
    }
}
