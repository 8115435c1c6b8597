using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The content security policy in a real browser: the console's pages run with it and the browser reports no
/// violation (our scripts are files, there are no inline handlers), while a script injected into a page is refused.
/// </summary>
public sealed class ContentSecurityPolicyBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    static List<string> Violations(IPage page)
    {
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) violations.Add(message.Text);
        };
        return violations;
    }

    [Fact]
    public async Task The_console_runs_under_the_policy_without_a_violation()
    {
        var page = await world.NewPageAsync();
        var violations = Violations(page);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        foreach (var path in new[] { "/app/projects", "/app/projects/erp/branches", "/app/projects/erp/builds", "/app/tokens", "/app/runners", "/app/invitations", "/logout" })
        {
            var response = await page.GotoAsync(path);
            Assert.True(response!.Ok, $"{path}: {response.Status}");
            Assert.Contains("frame-ancestors 'none'", await response.HeaderValueAsync("content-security-policy"));
        }
        // The org switcher's script (a file now, not an inline handler) still submits on change.
        await page.GotoAsync("/app/projects");
        await page.SelectOptionAsync("#org-switch", "labs");
        await page.WaitForPageAsync("**/app/projects?org=labs");
        Assert.Empty(violations);
    }

    [Fact]
    public async Task An_injected_inline_script_does_not_run()
    {
        var page = await world.NewPageAsync();
        var violations = Violations(page);
        await page.GotoAsync("/login");
        // What markup injection would amount to: an inline script element in our page.
        await page.EvaluateAsync("""
            () => { const s = document.createElement('script'); s.textContent = 'window.injected = true'; document.head.appendChild(s); }
            """);
        Assert.False(await page.EvaluateAsync<bool>("() => window.injected === true"));
        // The console message may arrive a moment after the evaluation: wait for it (a hang guard, not a timing check).
        for (var waited = 0; violations.Count == 0 && waited < 600; waited++) await Task.Delay(100);
        Assert.Contains(violations, v => v.Contains("script-src", StringComparison.OrdinalIgnoreCase) || v.Contains("inline", StringComparison.OrdinalIgnoreCase));
    }
}
