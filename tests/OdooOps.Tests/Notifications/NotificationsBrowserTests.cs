using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// Settings → Notifications in a real browser (Debian's Chromium, from <see cref="BrowserWorld"/>) against the
/// notification world's server, whose channels may reach loopback receivers: at 1280 px without JavaScript an owner sees
/// each channel's state (ok, failing since …), adds a Slack channel with the keyboard, sends it a test, reads the log,
/// redelivers, changes and removes it; at 390 px the list, the e-mail form and the log fit the screen; a viewer is told
/// who may. Screenshots go to $OPS_SCREENSHOT_DIR when it is set.
/// </summary>
public sealed class NotificationsBrowserTests(BrowserWorld browser, NotificationWorld world) : IClassFixture<BrowserWorld>, IClassFixture<NotificationWorld>
{
    async Task<IPage> PageAsync(string email, int width = 1280, int height = 900)
    {
        var context = await browser.Browser.NewContextAsync(new()
        {
            BaseURL = world.Server.Url, ViewportSize = new() { Width = width, Height = height }, JavaScriptEnabled = false,
        });
        context.SetDefaultTimeout(60_000);
        var page = PageWatch.Watch(await context.NewPageAsync());
        await BrowserWorld.SignInAsync(page, email);
        return page;
    }

    static Task ScreenshotAsync(IPage page, string name) => PageScreenshots.SaveAsync(page, name);

    static async Task AssertFitsAsync(IPage page)
    {
        var wide = await page.EvaluateAsync<string>("Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className).join(' | ')");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, wide);
    }

    async Task SeedAsync(HookReceiver hooks)
    {
        if (await world.ScalarAsync<long>("select count(*) from ops.notification_channels where name = 'Incident bridge'") > 0) return;
        await world.AddChannelAsync(new { name = "Incident bridge", kind = "webhook", url = hooks.Url + "/bridge", secret = "bridge-secret-0123456789",
            events = new[] { "build.failed", "deployment.failed", "instance.down" } });
        await world.AddChannelAsync(new { name = "On-call e-mail", kind = "email", recipients = new[] { "oncall@acme.test" },
            smtp = new { host = "127.0.0.1", port = 2525, tls = "none", from = "odooops@acme.test" }, project_ids = new[] { world.Erp }, min_severity = "critical" });
        await world.ExecuteAsync("""
            update ops.notification_channels set consecutive_failures = 6, failing_since = now() - interval '2 hours', last_delivery_at = now() - interval '5 minutes',
                   last_error = 'SMTP 127.0.0.1:2525: Connection refused'
             where name = 'On-call e-mail'
            """);
    }

    [Fact]
    public async Task An_owner_adds_a_slack_channel_tests_it_redelivers_changes_and_removes_it_without_javascript()
    {
        await using var hooks = await HookReceiver.StartAsync();
        await SeedAsync(hooks);
        var page = await PageAsync("owner@acme.test");
        await page.GotoAsync("/app/settings/notifications");
        Assert.Equal("Notifications", await page.Locator("h1").InnerTextAsync());
        Assert.Equal("failing", await page.Locator("tr[data-kind='email'] .badge").InnerTextAsync());
        Assert.Contains("since", await page.Locator("tr[data-kind='email'] td[data-label='State']").InnerTextAsync());
        Assert.Equal("new", await page.Locator("tr[data-kind='webhook'] .badge").First.InnerTextAsync());
        await ScreenshotAsync(page, "notifications-1280");

        await page.Locator("a", new() { HasText = "Add Slack / Mattermost" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForPageAsync(new Regex("add=slack"));
        await page.FillAsync("#channel-name", "Team chat");
        await page.FillAsync("#channel-url", hooks.Url + "/services/T0/B0/secret-path");
        await page.Locator("input[name='events'][value='build.succeeded']").CheckAsync();
        await ScreenshotAsync(page, "notifications-add-1280");
        await page.ClickAsync("#save-channel");
        await page.Locator(".alert.success", new() { HasText = "Team chat is added" }).WaitForAsync();
        var row = page.Locator("tr[data-kind='slack']");
        Assert.Contains("/…", await row.Locator(".channel-target").InnerTextAsync());
        Assert.DoesNotContain("secret-path", await page.ContentAsync());

        await row.Locator("button", new() { HasText = "Send test" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "A test notification is on its way to Team chat" }).WaitForAsync();
        await hooks.WaitForAsync(r => r.Path == "/services/T0/B0/secret-path");
        var delivered = page.Locator("tr[data-event='notification.test'][data-status='delivered']");
        for (var i = 0; i < 120 && await delivered.CountAsync() == 0; i++)
        {
            await Task.Delay(500);
            await page.ReloadAsync();
        }
        Assert.Contains("HTTP 200", await delivered.InnerTextAsync());
        await ScreenshotAsync(page, "notifications-log-1280");
        await delivered.Locator("button", new() { HasText = "Redeliver" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "sent to Team chat again" }).WaitForAsync();

        await page.GotoAsync("/app/settings/notifications");
        await page.Locator("tr[data-kind='slack'] a", new() { HasText = "Edit" }).ClickAsync();
        await page.SelectOptionAsync("#channel-severity", "critical");
        await page.ClickAsync("#save-channel");
        await page.Locator(".alert.success", new() { HasText = "Team chat is saved" }).WaitForAsync();
        Assert.Equal("critical", await world.ScalarAsync<string>("select min_severity from ops.notification_channels where name = 'Team chat'"));

        await page.Locator("tr[data-kind='slack'] a", new() { HasText = "Remove" }).ClickAsync();
        await page.ClickAsync("#confirm-delete");
        await page.Locator(".alert.success", new() { HasText = "The channel is removed" }).WaitForAsync();
        Assert.Equal(0, await page.Locator("tr[data-kind='slack']").CountAsync());
    }

    [Fact]
    public async Task On_a_phone_the_list_the_form_and_the_log_fit_and_a_viewer_is_told_who_may()
    {
        await using var hooks = await HookReceiver.StartAsync();
        await SeedAsync(hooks);
        var page = await PageAsync("owner@acme.test", 390, 844);
        await page.GotoAsync("/app/settings/notifications");
        await AssertFitsAsync(page);
        await ScreenshotAsync(page, "notifications-390");
        await page.GotoAsync("/app/settings/notifications?add=email");
        Assert.True(await page.Locator("#smtp-host").IsVisibleAsync());
        await AssertFitsAsync(page);
        await ScreenshotAsync(page, "notifications-add-390");
        var bridge = await world.ScalarAsync<Guid>("select id from ops.notification_channels where name = 'Incident bridge'");
        await page.GotoAsync($"/app/settings/notifications?channel={bridge}");
        Assert.True(await page.Locator("#deliveries-title").IsVisibleAsync());
        await AssertFitsAsync(page);

        var viewer = await PageAsync("viewer@acme.test", 390, 844);
        await viewer.GotoAsync("/app/settings/notifications");
        Assert.Equal("Owners and admins only", await viewer.Locator("h2").First.InnerTextAsync());
        Assert.Equal(0, await viewer.Locator("table.channels").CountAsync());
        await AssertFitsAsync(viewer);
    }
}
