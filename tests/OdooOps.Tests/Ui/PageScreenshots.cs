using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// Screenshots for review: a full page saved as <c>$OPS_SCREENSHOT_DIR/&lt;name&gt;.png</c> when that variable is set,
/// nothing otherwise.
/// </summary>
public static class PageScreenshots
{
    public const string Variable = "OPS_SCREENSHOT_DIR";

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
            $"Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > {width + 1} && !e.closest('.table-card, .tabs, .sidebar')).map(e => e.tagName + '.' + e.className).slice(0, 8).join(' | ')");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= width, $"wider than {width} px: {wide}");
    }
}
