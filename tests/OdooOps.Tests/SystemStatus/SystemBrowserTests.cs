using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.SystemStatus;

/// <summary>
/// The System page on the demo data in a real browser: the demo admin (the server's administrator on a fresh demo) finds
/// it in the sidebar's Server group; the checks with their thresholds, the queue, runners, database and pools, every
/// scheduled job with its recent runs (the demo's failed advisory scan among them). At 390 px it fits the screen; a
/// viewer has no System link and is refused the page.
/// </summary>
public sealed class SystemBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await DemoData.SeedAsync(world.Server.Owner.ConnectionString, Accounts.Password, TextWriter.Null);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task The_administrator_sees_checks_queue_runners_database_and_jobs()
    {
        var page = await world.NewPageAsync(1280, 900);
        await BrowserWorld.SignInAsync(page, DemoData.AdminEmail);
        await page.WaitForLoadStateAsync(Microsoft.Playwright.LoadState.Load); // the projects page, before leaving it
        await page.Locator(".sidebar a.nav-item", new() { HasText = "System" }).ClickAsync();
        await page.WaitForPageAsync("**/app/system");
        Assert.Equal("page", await page.Locator(".sidebar a.nav-item.active").GetAttributeAsync("aria-current"));

        Assert.Equal(7, await page.Locator(".system-checks tr[data-check]").CountAsync());
        Assert.Contains("≤ 80 % of each pool", await page.Locator(".system-checks tr[data-check='Connection pool saturation']").InnerTextAsync());
        Assert.Contains("queued", await page.Locator("#system-queue").InnerTextAsync());
        Assert.Matches(@"\d+(\.\d)? (KiB|MiB|GiB)", await page.Locator("#system-database .stat").InnerTextAsync());
        Assert.Equal(1, await page.Locator(".system-connections tr[data-application='odooops-app']").CountAsync());
        var scan = page.Locator(".system-jobs tr[data-job='advisory_scan']");
        Assert.Equal(1, await scan.Locator(".run-dot.danger").CountAsync());
        Assert.Contains("1", await scan.Locator("td[data-label='Failed, 24 h']").InnerTextAsync());
        Assert.Equal(OdooOps.Server.ServerApp.Jobs.Count, await page.Locator(".system-jobs tr[data-job]").CountAsync());
    }

    [Fact]
    public async Task On_a_phone_it_fits_and_a_viewer_neither_sees_the_link_nor_the_page()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, DemoData.AdminEmail);
        await page.GotoAsync("/app/system");
        await page.Locator(".system-jobs").WaitForAsync();
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390,
            await page.EvaluateAsync<string>("Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className).join(' | ')"));

        var viewer = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(viewer, "viewer@demo.odooops.dev");
        Assert.Equal(0, await viewer.Locator(".sidebar a.nav-item", new() { HasText = "System" }).CountAsync());
        var refused = await viewer.GotoAsync("/app/system");
        Assert.Equal(403, refused!.Status);
        Assert.Contains("For the server's administrators", await viewer.Locator(".empty-state").InnerTextAsync());
    }
}
