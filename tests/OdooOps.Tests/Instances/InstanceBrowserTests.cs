using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Instances;

/// <summary>The instances of a project in a real browser, at 1280 and 390 px: the table, Connect, a production restart
/// through its confirmation, and an instance's log growing live.</summary>
public sealed class InstanceBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    async Task<Guid> ErpAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.projects where slug = 'erp'");
    }

    Task<string> AskedAsync(Guid instance) =>
        InstanceRows.ScalarAsync<string>(world.Server.Owner, "select desired || ':' || restart_generation from ops.instances where id = @instance", new { instance });

    [Fact]
    public async Task The_table_connects_and_a_production_restart_asks_first()
    {
        var erp = await ErpAsync();
        var main = await InstanceRows.InsertAsync(world.Server.Owner, erp, "main", new(Commit: "abcdef0123456789"));
        await InstanceRows.InsertAsync(world.Server.Owner, erp, "feature-x", new(State: "failed", Reason: "crashed 5 times in 10 minutes", Restarts: 5));
        var label = await InstanceRows.ScalarAsync<string>(world.Server.Owner, "select host_label from ops.projects where id = @erp", new { erp });
        var port = new Uri(world.Server.Url).Port;

        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/branches");
        await page.ClickAsync(".tabs a.tab:has-text('Instances')");
        await page.WaitForPageAsync("**/app/projects/erp/instances");
        Assert.Equal(1, await page.Locator(".sidebar a.nav-item.active", new() { HasText = "Instances" }).CountAsync());

        var row = page.Locator($"tr[data-instance-id='{main}']");
        var connect = row.Locator("a.connect");
        Assert.Equal($"http://main.{label}.localhost:{port}", await connect.GetAttributeAsync("href"));
        Assert.Equal("_blank", await connect.GetAttributeAsync("target"));
        Assert.Equal("noopener", await connect.GetAttributeAsync("rel"));
        Assert.Equal("running", await row.Locator(".badge").InnerTextAsync());
        // Other tests of the shared console world add instances of their own: the failed one of this test, by its reason.
        Assert.True(await page.Locator("tr[data-state='failed']", new() { HasText = "crashed 5 times in 10 minutes" }).CountAsync() >= 1);
        await PageScreenshots.SaveAsync(page, "40-instances");

        await row.Locator("a[data-action='restart']").ClickAsync();
        await page.WaitForPageAsync(new Regex("confirm="));
        Assert.Contains("Restart the production instance of", await page.Locator("#confirm-title").InnerTextAsync());
        Assert.Equal("running:0", await AskedAsync(main)); // nothing happened yet
        await PageScreenshots.SaveAsync(page, "41-instances-confirm");
        await page.ClickAsync("#confirm-action");
        await page.WaitForPageAsync(new Regex("done=restart"));
        Assert.Contains("Restart requested for main", await page.Locator(".alert.success").InnerTextAsync());
        Assert.Equal("running:1", await AskedAsync(main));
    }

    [Fact]
    public async Task On_a_phone_the_table_fits_and_a_viewer_is_offered_nothing()
    {
        var erp = await ErpAsync();
        await InstanceRows.InsertAsync(world.Server.Owner, erp, "staging", new(Commit: "0123456789abcdef"));
        var page = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/projects/erp/instances");
        Assert.Equal("Instances", await page.Locator("h1").InnerTextAsync());
        Assert.True(await page.Locator("tr[data-instance-id]").CountAsync() >= 1);
        Assert.Equal(0, await page.Locator("[data-action]").CountAsync());
        Assert.True(await page.Locator("tr[data-stage='staging'] a.connect").IsVisibleAsync());
        await PageScreenshots.SaveAsync(page, "42-instances-390px");
        var wide = await page.EvaluateAsync<string>("Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).join(' | ')");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, wide);
    }

    [Fact]
    public async Task The_instance_log_grows_live_and_the_state_follows()
    {
        var erp = await ErpAsync();
        var instance = await InstanceRows.InsertAsync(world.Server.Owner, erp, "feature-x");
        await InstanceRows.AppendAsync(world.Server.Owner, instance, ("INFO", "odoo: HTTP service (werkzeug) running on 0.0.0.0:8069"));

        foreach (var width in new[] { 1280, 390 })
        {
            var page = await world.NewPageAsync(width: width, height: width == 390 ? 844 : 800);
            await BrowserWorld.SignInAsync(page, "ada@acme.test");
            await page.GotoAsync($"/app/projects/erp/instances/{instance}");
            await page.Locator("#log-state[data-state='live']").WaitForAsync(); // EventSource connected

            var seq = await InstanceRows.AppendAsync(world.Server.Owner, instance, ("ERROR", $"odoo.http: boom at {width}"));
            var line = page.Locator($"#instance-log .log-line[data-seq='{seq}']");
            await line.WaitForAsync(new() { Timeout = 30_000 });
            Assert.Equal($"odoo.http: boom at {width}", await line.Locator(".text").InnerTextAsync());
            Assert.Contains("level-error", await line.GetAttributeAsync("class"));
            if (width == 390) Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);
            await PageScreenshots.SaveAsync(page, $"43-instance-log-{width}px");
        }

        var watching = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(watching, "ada@acme.test");
        await watching.GotoAsync($"/app/projects/erp/instances/{instance}");
        await watching.Locator("#log-state[data-state='live']").WaitForAsync();
        await InstanceRows.ExecuteAsync(world.Server.Owner, "update ops.instances set state = 'failed', reason = 'crashed' where id = @instance", new { instance });
        await watching.Locator("#instance-state-holder .badge.danger[data-status='failed']").WaitForAsync(new() { Timeout = 30_000 });
    }
}
