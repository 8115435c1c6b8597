using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// Screenshots for an issue's note: a full page saved into <c>$OPS_SCREENSHOT_DIR</c> when that variable is set, nothing
/// otherwise. Every console page at 1280 and 390 px is taken by one pass (<see cref="AccessibilityBrowserTests"/>, as
/// &lt;page&gt;-&lt;width&gt;.png); a test saves a state of its own (a dialog, an error) under a name of its own.
/// </summary>
public static class PageScreenshots
{
    public const string Variable = "OPS_SCREENSHOT_DIR";

    /// <summary>As <c>&lt;name&gt;-&lt;viewport width&gt;.png</c>.</summary>
    public static Task TakeAsync(IPage page, string name) => SaveAsync(page, $"{name}-{page.ViewportSize!.Width}");

    /// <summary>As <c>&lt;name&gt;.png</c>.</summary>
    public static async Task SaveAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name + ".png"), FullPage = true });
    }

    /// <summary>Nothing on the page is wider than the screen (wide tables scroll in their own box); names what is, if anything.</summary>
    public static async Task AssertFitsAsync(IPage page, int width)
    {
        var wide = await page.EvaluateAsync<string>(
            $"Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > {width + 1} && !e.closest('.table-card, .tabs, .sidebar, .table-scroll')).map(e => e.tagName + '.' + e.className).slice(0, 8).join(' | ')");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= width, $"wider than {width} px: {wide}");
    }
}
