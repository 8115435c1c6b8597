using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>Screenshots of the settings pages for the note: into $OPS_SCREENSHOT_DIR as &lt;page&gt;-&lt;width&gt;.png, only when it is set.</summary>
internal static class SettingsPagesShots
{
    public static async Task TakeAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("OPS_SCREENSHOT_DIR") is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name + ".png"), FullPage = true });
    }

    /// <summary>True when nothing makes the page wider than its viewport (wide tables scroll in their own box).</summary>
    public static async Task<bool> FitsAsync(IPage page, int width) =>
        await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= width;
}
