using System.Diagnostics;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>A build page in a real browser: the log grows while the page is open, steps and status follow, Cancel works.</summary>
public sealed class BuildBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    async Task<Guid> ErpAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.projects where slug = 'erp'");
    }

    /// <summary>Well below the stream's 30 s fallback poll, so a line that arrives proves the live push.</summary>
    static Task WaitForLineAsync(IPage page, long seq, float timeoutMs = 15_000) =>
        page.Locator($"#build-log .log-line[data-seq='{seq}']").WaitForAsync(new() { Timeout = timeoutMs });

    [Fact]
    public async Task The_log_grows_live_follows_the_bottom_and_the_page_settles_when_the_build_ends()
    {
        var build = await TestRunner.QueueAsync(world.Server.Owner, await ErpAsync(), "feature-x");
        var runner = await TestRunner.RegisterAsync(world.Server.Owner, null, "shared-1");
        await runner.StartAsync(build);
        await runner.AppendAsync(build, ("system", "Checking out feature-x"));

        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync($"/app/projects/erp/builds/{build}");
        Assert.Equal("Checking out feature-x", await page.Locator(".log-line[data-seq='0'] .text").InnerTextAsync());
        await page.Locator("#log-state[data-state='live']").WaitForAsync(); // EventSource connected
        Assert.Equal(1, await page.Locator(".sidebar a.nav-item.active", new() { HasText = "Builds" }).CountAsync());

        var clock = Stopwatch.StartNew();
        await runner.AppendAsync(build, ("stdout", "\u001b[32mINFO\u001b[0m odoo.modules.loading: 42 modules loaded"));
        await WaitForLineAsync(page, 1);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"the line took {clock.Elapsed.TotalMilliseconds:0} ms to show"); // (the SSE test holds the server to 1 s)
        Assert.Equal("INFO", await page.Locator(".log-line[data-seq='1'] .ansi-fg-2").InnerTextAsync());
        Assert.Equal("INFO odoo.modules.loading: 42 modules loaded", await page.Locator(".log-line[data-seq='1'] .text").InnerTextAsync());

        await runner.StepAsync(build, 0, "install", "running");
        await page.Locator("#build-steps tr[data-step-seq='0'][data-status='running']").WaitForAsync();
        await PageScreenshots.SaveAsync(page, "20-build-live");

        // Many lines: the view stays at the bottom while following…
        var last = await runner.AppendAsync(build, [.. Enumerable.Range(0, 120).Select(i => $"test {i} ok")]);
        await WaitForLineAsync(page, last);
        Assert.True(await page.EvaluateAsync<bool>("(() => { const l = document.getElementById('build-log'); return l.scrollTop + l.clientHeight >= l.scrollHeight - 4; })()"));
        Assert.False(await page.Locator("#log-jump").IsVisibleAsync());
        // …and stays where the reader scrolled to, offering a way back down.
        await page.EvaluateAsync("document.getElementById('build-log').scrollTop = 0");
        await page.WaitForFunctionAsync("document.getElementById('build-log').scrollTop === 0");
        last = await runner.AppendAsync(build, ("stderr", "a warning while reading"));
        await WaitForLineAsync(page, last);
        Assert.Equal(0, await page.EvaluateAsync<int>("document.getElementById('build-log').scrollTop"));
        await page.Locator("#log-jump").WaitForAsync(new() { State = WaitForSelectorState.Visible });

        await runner.StepAsync(build, 0, "install", "success", 0, 61_000);
        await runner.FinishAsync(build, "success");
        await page.Locator("#build-status[data-build-status='success'] .badge.success").WaitForAsync();
        await page.Locator("#log-state[data-state='complete']").WaitForAsync();
        Assert.Equal("1 min 01 s", await page.Locator("#build-steps tr[data-step-seq='0'] .step-duration").InnerTextAsync());
        Assert.Equal("just now", await page.Locator("[data-fact='finished']").InnerTextAsync());
        Assert.Matches(@"^\d+(\.\d)? (ms|s)$", await page.Locator("[data-fact='duration']").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#cancel-build").CountAsync()); // nothing left to cancel
        await PageScreenshots.SaveAsync(page, "21-build-finished");
    }

    [Fact]
    public async Task Cancel_on_a_queued_build_cancels_it()
    {
        var build = await TestRunner.QueueAsync(world.Server.Owner, await ErpAsync(), "staging");
        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/builds");
        await page.ClickAsync($"tr[data-build-id='{build}'] a.row-link");
        await page.WaitForPageAsync($"**/app/projects/erp/builds/{build}");
        await PageScreenshots.SaveAsync(page, "22-build-queued");

        await page.ClickAsync("#cancel-build");
        await page.WaitForPageAsync(new Regex("cancel=done"));

        Assert.Equal("cancelled", await page.Locator("#build-status").GetAttributeAsync("data-build-status"));
        Assert.Contains("The build is cancelled.", await page.Locator(".alert.success").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#cancel-build").CountAsync());
        Assert.Equal(1, await page.Locator("#rebuild-build").CountAsync());
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal("cancelled", await conn.ExecuteScalarAsync<string>("select status from ops.builds where id = @build", new { build }));
    }

    [Fact]
    public async Task A_viewer_sees_the_builds_list_and_no_buttons()
    {
        var page = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/projects/shop/builds");
        Assert.Equal("Builds", await page.Locator("h1").InnerTextAsync());
        Assert.Equal(2, await page.Locator("tr[data-build-id]").CountAsync());
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);
        await PageScreenshots.SaveAsync(page, "23-builds-390px");

        await page.ClickAsync("tr[data-status='failed'] a.row-link");
        await page.WaitForPageAsync("**/app/projects/shop/builds/*");
        Assert.Equal(0, await page.Locator(".build-actions").CountAsync());
        Assert.Contains("This build wrote no log.", await page.Locator(".log-empty").InnerTextAsync());
    }
}
