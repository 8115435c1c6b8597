using Microsoft.Playwright;
using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Projects;

/// <summary>
/// A project's overview on the demo data in a real browser, without script: reached from the Projects list; production's
/// instance with its state and address, the last deployment, open advisories by severity linking to the advisories
/// page, 24 h sparklines, the last builds per stage; Build production lands on the new build's page, and Back up now
/// shows the refusal's words when nothing hosts production. At 390 px a viewer is offered no action and nothing is
/// wider than the screen.
/// </summary>
public sealed class ProjectOverviewBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await DemoData.SeedAsync(world.Server.Owner.ConnectionString, Accounts.Password, TextWriter.Null);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task The_overview_shows_production_at_a_glance_and_its_quick_actions_work()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, DemoData.AdminEmail);
        await page.ClickAsync("tr[data-slug='prod-erp'] a.row-link");
        await page.WaitForPageAsync("**/app/projects/prod-erp");
        Assert.Equal("Overview", await page.Locator("nav.tabs a.active").InnerTextAsync());

        var production = page.Locator("#overview-production");
        Assert.Equal("running", await production.Locator(".badge").InnerTextAsync());
        Assert.Matches(@"^http://main\.prod-erp\.localhost:\d+$", await production.Locator("a.instance-url").InnerTextAsync());
        Assert.Equal("live", await page.Locator("#overview-deployment .badge").InnerTextAsync());
        Assert.Equal(3, await page.Locator("#overview-metrics .trend svg").CountAsync());
        Assert.Equal(["production", "staging", "development"],
            (await page.Locator(".overview-builds tr[data-stage]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.stage)")).Distinct());

        // Field Service's failed production build and unsupported Odoo version: open advisories, counted by severity.
        await page.GotoAsync("/app/projects/field-service");
        var counts = page.Locator("#overview-advisories a[data-severity]");
        Assert.True(await counts.CountAsync() >= 1);
        Assert.StartsWith("app/projects/field-service/advisories?severity=", await counts.First.GetAttributeAsync("href"));

        await page.GotoAsync("/app/projects/prod-erp");
        await page.ClickAsync(".quick-actions button[value='backup']");
        Assert.Contains("Nothing to back up yet", await page.Locator(".alert.error").InnerTextAsync());

        await page.ClickAsync(".quick-actions button[value='build']");
        await page.WaitForPageAsync(new System.Text.RegularExpressions.Regex("/app/projects/prod-erp/builds/[0-9a-f-]{36}$"));
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(("main", "manual"), await Dapper.SqlMapper.QuerySingleAsync<(string, string)>(conn,
            "select br.name, b.trigger from ops.builds b join ops.branches br on br.id = b.branch_id where b.id = @id",
            new { id = Guid.Parse(page.Url[^36..]) }));
    }

    [Fact]
    public async Task On_a_phone_a_viewer_sees_the_overview_and_is_offered_no_action()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "viewer@demo.odooops.dev");
        await page.GotoAsync("/app/projects/shop");
        Assert.Equal(0, await page.Locator(".quick-actions button").CountAsync());
        Assert.Equal(1, await page.Locator("#open-instance").CountAsync()); // opening the site is not an action on it
        Assert.Contains("As viewer", await page.Locator(".role-hint").InnerTextAsync());
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390,
            await page.EvaluateAsync<string>("Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className).join(' | ')"));
    }
}
