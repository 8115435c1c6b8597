using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>Screenshots for an issue's note: into $OPS_SCREENSHOT_DIR when it is set (nothing otherwise), as &lt;page&gt;-&lt;width&gt;.png.</summary>
public static class NoteScreenshots
{
    public static async Task TakeAsync(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("OPS_SCREENSHOT_DIR");
        if (string.IsNullOrEmpty(dir)) return;
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, $"{name}-{page.ViewportSize!.Width}.png"), FullPage = true });
    }
}
