using Microsoft.Playwright;
using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// The Metrics page on the demo data in a real browser: reached from the sidebar (no longer "soon"); with script, one
/// uPlot chart (a canvas) per metric under the content security policy, and the deployments of the range listed (the
/// dashed marks' data); the ranges switch the source (raw samples, minute and hour rollups) and the deployments; a custom
/// range that ends before it starts is refused next to its field. Without script the table carries every metric; at
/// 390 px nothing is wider than the screen.
/// </summary>
public sealed class MetricsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await DemoData.SeedAsync(world.Server.Owner.ConnectionString, Accounts.Password, TextWriter.Null);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static readonly string[] Metrics = ["cpu_pct", "mem_mb", "requests", "response_ms", "queue_jobs"];

    static async Task AssertFitsAsync(IPage page) =>
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390,
            await page.EvaluateAsync<string>("Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className).join(' | ')"));

    static async Task ShowAsync(IPage page, string project)
    {
        await page.SelectOptionAsync("#metrics-project", project);
        await page.ClickAsync(".metric-filters button[type=submit]");
        await page.WaitForPageAsync($"**/app/metrics?project={project}*");
    }

    [Fact]
    public async Task Charts_draw_with_script_and_the_ranges_switch_source_and_deployments()
    {
        var page = await world.NewPageAsync(1280, 900);
        var violations = new List<string>();
        page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) violations.Add(m.Text); };
        await BrowserWorld.SignInAsync(page, DemoData.AdminEmail);
        await page.WaitForLoadStateAsync(Microsoft.Playwright.LoadState.Load); // the projects page, before leaving it
        await page.Locator(".sidebar a.nav-item", new() { HasText = "Metrics" }).ClickAsync();
        await page.WaitForPageAsync("**/app/metrics");
        await ShowAsync(page, "prod-erp");

        await page.Locator("#metric-charts canvas").Nth(Metrics.Length - 1).WaitForAsync();
        Assert.Equal(Metrics, await page.Locator("#metric-charts .metric-card").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.metric)"));
        Assert.Equal(Metrics.Length, await page.Locator("#metric-charts .metric-card canvas").CountAsync());
        Assert.Contains("minute rollups, 5 min steps", await page.Locator(".subtitle").InnerTextAsync());
        Assert.Equal(1, await page.Locator(".metric-deployments li").CountAsync()); // the release that went live 20 h ago

        foreach (var (range, source, deployments) in new[] { ("7d", "hour rollups", 3), ("30d", "hour rollups", 4), ("1h", "raw samples", 0) })
        {
            await page.ClickAsync($".metric-ranges a[data-range='{range}']");
            await page.WaitForPageAsync($"**range={range}");
            Assert.Equal("page", await page.Locator(".metric-ranges a.active").GetAttributeAsync("aria-current"));
            Assert.Contains(source, await page.Locator(".subtitle").InnerTextAsync());
            await page.Locator("#metric-charts canvas").First.WaitForAsync();
            Assert.Equal(deployments, await page.Locator(".metric-deployments li").CountAsync());
        }
        await page.ClickAsync(".metric-ranges a[data-range='7d']");
        await page.WaitForPageAsync("**range=7d");
        Assert.Contains("failed deploy", await page.Locator(".metric-deployments").InnerTextAsync());

        await page.ClickAsync(".metric-ranges a[data-range='custom']");
        await page.FillAsync("#range-from", "2026-03-02T10:00");
        await page.FillAsync("#range-to", "2026-03-01T10:00");
        await page.ClickAsync(".custom-range button[type=submit]");
        Assert.Contains("from must be earlier than to", await page.Locator("#range-from-error").InnerTextAsync());
        Assert.Equal("true", await page.Locator("#range-from").GetAttributeAsync("aria-invalid"));
        Assert.Empty(violations);
    }

    [Fact]
    public async Task Without_script_the_table_carries_every_metric()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "viewer@demo.odooops.dev");
        await page.GotoAsync("/app/metrics?project=prod-erp&branch=staging&range=24h");
        Assert.False(await page.Locator("#metric-charts").IsVisibleAsync());
        Assert.Equal(Metrics, await page.Locator(".metric-summary tbody tr").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.metric)"));
        Assert.Matches(@"^\d+(\.\d)?%", await page.Locator(".metric-summary tr[data-metric='cpu_pct'] td[data-label='Latest']").InnerTextAsync());
        // 24 hours of minute samples, and the few minutes the range's whole first step reaches before them
        Assert.Matches(@"^1,44\d$", await page.Locator(".metric-summary tr[data-metric='mem_mb'] td[data-label='Samples']").InnerTextAsync());
        Assert.Equal(1, await page.Locator(".metric-deployments li").CountAsync()); // staging went live 5 h ago
    }

    [Fact]
    public async Task On_a_phone_the_charts_fit_and_a_project_without_samples_says_what_to_do()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, DemoData.AdminEmail);
        await page.GotoAsync("/app/metrics?project=shop&range=24h");
        await page.Locator("#metric-charts canvas").Nth(Metrics.Length - 1).WaitForAsync();
        await AssertFitsAsync(page);

        await page.GotoAsync("/app/metrics?project=shop&branch=feature%2Finvoicing&range=24h");
        Assert.Contains("No samples in the last 24 hours", await page.Locator(".empty-state").InnerTextAsync());
        Assert.Contains("odooops metrics push", await page.Locator(".empty-state").InnerTextAsync());
        await AssertFitsAsync(page);
    }
}
