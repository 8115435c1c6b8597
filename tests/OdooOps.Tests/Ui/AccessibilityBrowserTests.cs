using Deque.AxeCore.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// axe-core (Deque.AxeCore.Playwright) over every console page of the demo (<see cref="ConsolePages"/>), at desktop and
/// phone widths: no serious or critical violation (contrast, names, labels, links told apart from text, …), and nothing
/// wider than the screen (at 1280 px not even a table or the tabs, scrolling in their box). Its admin
/// is a system administrator, so the System page too. The same pass takes the note's screenshots of every page when
/// $OPS_SCREENSHOT_DIR is set (&lt;page&gt;-&lt;width&gt;.png).
/// </summary>
public sealed class AccessibilityBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    /// <summary>What runs off the screen: the page itself, and on a desktop a project's tabs or a table that scrolls
    /// sideways (on a phone tabs scroll by design and table rows become cards).</summary>
    const string Overflow = """
        () => {
          const out = [], root = document.documentElement;
          if (root.scrollWidth > root.clientWidth) out.push(`the page is ${root.scrollWidth} px wide`);
          if (innerWidth > 760)
            for (const e of document.querySelectorAll('main .tabs, main .table-card, main .table-scroll'))
              if (e.scrollWidth > e.clientWidth + 1) out.push(`${e.tagName.toLowerCase()}.${e.className.replace(/ /g, '.')} scrolls sideways (${e.scrollWidth} > ${e.clientWidth} px)`);
          return out;
        }
        """;

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task No_page_has_a_serious_or_critical_violation_or_runs_off_the_screen(int width, int height)
    {
        var pages = await ConsolePages.DemoAsync(world);
        var page = await ConsolePages.AdminPageAsync(world, width, height);
        var found = await ConsolePages.CheckEachAsync(page, pages, async p =>
        {
            var result = await page.RunAxe();
            var problems = result.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{v.Impact} {v.Id}: {v.Help} — {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))}")
                .Concat((await page.EvaluateAsync<string[]>(Overflow)).Select(o => $"at {width} px: {o}")).ToList();
            await PageScreenshots.TakeAsync(page, p.Name);
            return problems;
        });
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
