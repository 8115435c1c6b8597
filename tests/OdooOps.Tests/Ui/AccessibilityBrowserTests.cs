using Deque.AxeCore.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// axe-core (Deque.AxeCore.Playwright) over every console page of the demo (<see cref="ConsolePages"/>), at desktop and
/// phone widths: no serious or critical violation (contrast, names, labels, links told apart from text, …). Its admin
/// is a system administrator, so the System page too. The same pass takes the note's screenshots of every page when
/// $OPS_SCREENSHOT_DIR is set (&lt;page&gt;-&lt;width&gt;.png).
/// </summary>
public sealed class AccessibilityBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task No_page_has_a_serious_or_critical_violation(int width, int height)
    {
        var pages = await ConsolePages.DemoAsync(world);
        var page = await ConsolePages.AdminPageAsync(world, width, height);
        var found = new List<string>();
        foreach (var p in pages)
        {
            var response = await page.GotoAsync(p.Path);
            Assert.True(response is { Ok: true }, $"{p.Path}: {response?.Status}");
            var result = await page.RunAxe();
            found.AddRange(result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v =>
                $"{p.Path} {v.Impact} {v.Id}: {v.Help} — {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))}"));
            await PageScreenshots.TakeAsync(page, p.Name);
        }
        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    /// <summary>A "}" lost in a merge left a phone-only block open to the end of the file: every rule after it (the
    /// overview's grid, the charts, the settings and notifications styles) applied on phones only.</summary>
    [Fact]
    public async Task The_stylesheet_leaves_no_block_for_narrow_screens_open()
    {
        var page = await world.NewPageAsync();
        await page.GotoAsync("/login");
        var nested = await page.EvaluateAsync<string[]>("""
            () => Array.from(document.styleSheets).filter(s => s.href && s.href.endsWith('/app.css')).flatMap(s => Array.from(s.cssRules))
                .filter(r => r instanceof CSSMediaRule)
                .flatMap(m => Array.from(m.cssRules).filter(r => r instanceof CSSMediaRule).map(r => `@media ${r.conditionText} inside @media ${m.conditionText}`))
            """);
        Assert.Empty(nested);
        Assert.Equal(1, await page.EvaluateAsync<int>("""
            () => Array.from(document.styleSheets).filter(s => s.href && s.href.endsWith('/app.css')).length
            """));
    }
}
