using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// /app/settings/notifications over real HTTP with session cookies and plain form posts (no script): an admin adds a
/// webhook, sends a test, reads the delivery log and redelivers; a bad form gets its messages next to the fields and
/// changes nothing, a secret is never put back into the page; a post without the antiforgery token changes nothing;
/// members below admin get a 403 page; another organisation's channel ids in the query show nothing.
/// </summary>
public sealed partial class NotificationsPageTests(NotificationWorld world) : IClassFixture<NotificationWorld>
{
    const string Url = "/app/settings/notifications";

    async Task<HttpClient> SignedInAsync(string email)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
            { BaseAddress = new Uri(world.Server.Url) };
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(client, email)).StatusCode);
        return client;
    }

    static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, string handler, IEnumerable<(string, string)> fields, bool withToken = true)
    {
        var form = new List<KeyValuePair<string, string>> { new("_handler", handler) };
        if (withToken) form.Add(new("__RequestVerificationToken", ConsoleWorld.TokenOf(await client.GetStringAsync(url))));
        form.AddRange(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));
        return await client.PostAsync(url, new FormUrlEncodedContent(form));
    }

    static string Row(string html, Guid id) =>
        Regex.Match(html, $"<tr id=\"channel-{id}\".*?</tr>", RegexOptions.Singleline) is { Success: true } m ? m.Value
            : throw new InvalidOperationException($"No row of channel {id}.");

    [Fact]
    public async Task An_admin_adds_a_webhook_sends_a_test_and_redelivers_it_without_javascript()
    {
        await using var hooks = await HookReceiver.StartAsync();
        using var admin = await SignedInAsync("admin@acme.test");
        var first = await admin.GetAsync(Url);
        var empty = await first.Content.ReadAsStringAsync();
        Assert.True(first.StatusCode == HttpStatusCode.OK, empty);
        Assert.Contains("Add Webhook", empty);

        var added = await PostAsync(admin, $"{Url}?add=webhook", "channel-save",
        [
            ("name", "Page hook"), ("url", hooks.Url + "/page"), ("secret", "page-secret-0123456789"), ("events", "build.failed"), ("events", "instance.down"),
            ("scope", "some"), ("projects", world.Erp.ToString()), ("min_severity", "warning"), ("enabled", "on"),
        ]);
        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        var id = await world.ScalarAsync<Guid>("select id from ops.notification_channels where name = 'Page hook'");
        Assert.Equal(["build.failed", "instance.down"], await world.ScalarAsync<string[]>("select events from ops.notification_channels where id = @id", new { id }));
        var page = await admin.GetStringAsync(new Uri(new Uri(world.Server.Url), added.Headers.Location!));
        Assert.Contains("Page hook is added", page);
        Assert.Contains("data-state=\"new\"", Row(page, id));
        Assert.DoesNotContain("page-secret-0123456789", page);

        var test = await PostAsync(admin, Url, "channel-action", [("TestId", id.ToString())]);
        Assert.Equal(HttpStatusCode.Redirect, test.StatusCode);
        var delivery = await world.ScalarAsync<Guid>("select id from ops.notification_deliveries where channel_id = @id", new { id });
        Assert.Equal("delivered", (await world.DeliveryAsync(delivery)).Status);
        var log = await admin.GetStringAsync($"{Url}?channel={id}");
        Assert.Matches($"<tr data-delivery-id=\"{delivery}\" data-status=\"delivered\" data-event=\"notification.test\"", log);
        Assert.Contains("HTTP 200", log);

        var again = await PostAsync(admin, $"{Url}?channel={id}", "delivery-action", [("Redeliver", delivery.ToString())]);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        await hooks.WaitForAsync(_ => hooks.All.Count == 2);
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'notification_delivery.redeliver' and target_id = @d",
            new { d = delivery.ToString() }));
    }

    [Fact]
    public async Task A_bad_form_gets_its_messages_and_a_post_without_the_antiforgery_token_changes_nothing()
    {
        using var admin = await SignedInAsync("admin@acme.test");
        var before = await world.ScalarAsync<long>("select count(*) from ops.notification_channels");
        var bad = await PostAsync(admin, $"{Url}?add=webhook", "channel-save",
            [("name", "No secret"), ("url", "not a url"), ("secret", "short!"), ("scope", "all"), ("min_severity", "warning")]);
        var html = WebUtility.HtmlDecode(await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Contains("must be an absolute http(s) URL", ConsoleWorld.FieldBlock(html, "url"));
        Assert.Contains("16–200 characters", ConsoleWorld.FieldBlock(html, "secret"));
        Assert.Contains("Choose at least one event", html);
        Assert.DoesNotContain("short!", html);
        Assert.Contains("value=\"No secret\"", html); // what was typed stays, secrets aside

        var forged = await PostAsync(admin, $"{Url}?add=webhook", "channel-save",
            [("name", "Forged"), ("url", "https://evil.example.com/"), ("secret", "0123456789abcdef0123"), ("events", "build.failed"), ("scope", "all")],
            withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var channel = (await world.AddChannelAsync(new { name = "keep me", kind = "webhook", url = "https://hooks.example.com/x", secret = "0123456789abcdef0123" }))
            .GetProperty("id").GetGuid();
        var forgedDelete = await PostAsync(admin, Url, "channel-delete", [("DeleteId", channel.ToString())], withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, forgedDelete.StatusCode);
        Assert.Equal(before + 1, await world.ScalarAsync<long>("select count(*) from ops.notification_channels"));

        // Removing goes through its confirmation.
        Assert.Contains("Remove the channel keep me?", await admin.GetStringAsync($"{Url}?delete={channel}"));
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(admin, $"{Url}?delete={channel}", "channel-delete", [("DeleteId", channel.ToString())])).StatusCode);
        Assert.Equal(before, await world.ScalarAsync<long>("select count(*) from ops.notification_channels"));
    }

    [Fact]
    public async Task Members_below_admin_get_a_403_page_and_another_organisations_ids_show_nothing()
    {
        var acme = (await world.AddChannelAsync(new { name = "acme only", kind = "webhook", url = "https://hooks.example.com/acme", secret = "0123456789abcdef0123" }))
            .GetProperty("id").GetGuid();
        using var viewer = await SignedInAsync("viewer@acme.test");
        var refused = await viewer.GetAsync(Url);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Only owners and admins of Org acme", html);
        Assert.DoesNotContain("acme only", html);
        Assert.DoesNotContain("channel-save", html);
        Assert.DoesNotContain("channel-action", html);
        var post = await PostAsync(viewer, Url, "channel-action", [("TestId", acme.ToString())], withToken: false);
        Assert.NotEqual(HttpStatusCode.Redirect, post.StatusCode);

        using var globex = await SignedInAsync("admin@globex.test");
        foreach (var query in new[] { $"?edit={acme}", $"?channel={acme}", $"?delete={acme}" })
        {
            var page = await globex.GetStringAsync(Url + query);
            Assert.DoesNotContain("acme only", page);
            Assert.DoesNotContain("hooks.example.com/acme", page);
        }
        var theirs = await PostAsync(globex, $"{Url}?delete={acme}", "channel-delete", [("DeleteId", acme.ToString())]);
        Assert.NotEqual(HttpStatusCode.Redirect, theirs.StatusCode); // no such form for them (400), and nothing removed
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.notification_channels where id = @acme", new { acme }));
    }

    [Fact]
    public async Task Send_test_is_rationed_on_the_page_as_in_the_api()
    {
        var id = (await world.AddChannelAsync(new { name = "page rationed", kind = "webhook", url = "https://hooks.example.com/rationed", secret = "0123456789abcdef0123" }))
            .GetProperty("id").GetGuid();
        using var admin = await SignedInAsync("admin@acme.test");
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(admin, Url, "channel-action", [("TestId", id.ToString())])).StatusCode);
        var refused = await PostAsync(admin, Url, "channel-action", [("TestId", id.ToString())]);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 600);
        Assert.Contains("This channel already had 5 tests and redeliveries in the last 10 minutes", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal(5L, await world.ScalarAsync<long>("select count(*) from ops.notification_deliveries where channel_id = @id", new { id }));
    }

    [Fact]
    public async Task Redeliver_is_rationed_on_the_page_as_in_the_api()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var id = (await world.AddChannelAsync(new { name = "page redelivered", kind = "webhook", url = hooks.Url + "/in", secret = "0123456789abcdef0123" }))
            .GetProperty("id").GetGuid();
        using var admin = await SignedInAsync("admin@acme.test");
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(admin, Url, "channel-action", [("TestId", id.ToString())])).StatusCode);
        var delivery = await world.ScalarAsync<Guid>("select id from ops.notification_deliveries where channel_id = @id", new { id });
        Assert.Equal("delivered", (await world.DeliveryAsync(delivery)).Status);
        // The channel's other four sends of the last minutes, as if made before.
        await world.ExecuteAsync("""
            insert into ops_private.notification_sends (org_id, channel_id, kind) select @Acme, @id, 'redeliver' from generate_series(1, 4)
            """, new { world.Acme, id });

        var refused = await PostAsync(admin, $"{Url}?channel={id}", "delivery-action", [("Redeliver", delivery.ToString())]);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 600);
        Assert.Contains("This channel already had 5 tests and redeliveries in the last 10 minutes", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal("delivered", await world.ScalarAsync<string>("select status from ops.notification_deliveries where id = @delivery", new { delivery }));
        Assert.Single(hooks.All);
    }

    [Theory]
    [InlineData("email", "SMTP 250 in 12 ms")]
    [InlineData("webhook", "HTTP 250 in 12 ms")]
    public void The_log_labels_a_reply_code_by_the_channel_s_kind(string kind, string shown) =>
        Assert.Equal(shown, OdooOps.Notifications.Pages.NotificationDisplay.Answer(new OdooOps.Notifications.NotificationDelivery { ResponseCode = 250, DurationMs = 12 }, kind));
}
