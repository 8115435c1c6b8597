using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// The Runners page in headless Chromium, as an org owner uses it: from the sidebar, create a registration token, copy
/// the command, a runner registers with it and shows up online, then Disable and Enable it with the buttons.
/// </summary>
public sealed partial class RunnersBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    [GeneratedRegex("^odooops runner --url (\\S+) --token (oo_reg_[0-9A-Za-z]{43})$")]
    private static partial Regex RegisterCommand();

    [Fact]
    public async Task An_owner_adds_a_runner_from_the_console_and_disables_it()
    {
        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.ClickAsync("nav.sidebar a:has-text('Runners')");
        await page.WaitForPageAsync("**/app/runners");
        Assert.Contains("No runners yet", await page.InnerTextAsync("main"));

        await page.SelectOptionAsync("#runner-token-expiry", "168");
        await page.ClickAsync("button:has-text('Create registration token')");
        var command = (await page.InnerTextAsync(".register-command")).Trim();
        await PageScreenshots.SaveAsync(page, "runners-token-created");

        var match = RegisterCommand().Match(command);
        Assert.True(match.Success, command);
        Assert.Equal(world.Server.Url, match.Groups[1].Value);
        var registered = await DispatchClient.RegisterAsync(new Uri(world.Server.Url),
            new RunnerProtocol.RegisterRequest(match.Groups[2].Value, "build-host-1", ["odoo19"], 2, "1.2.3"));

        await page.GotoAsync("/app/runners");
        var row = page.Locator($"tr[data-runner-id='{registered.RunnerId}']");
        Assert.Equal("online", await row.GetAttributeAsync("data-state"));
        Assert.Contains("0 / 2", await row.InnerTextAsync());
        Assert.DoesNotContain(match.Groups[2].Value, await page.ContentAsync()); // shown once only
        await PageScreenshots.SaveAsync(page, "runners-list");

        await row.GetByRole(AriaRole.Button, new() { Name = "Disable build-host-1" }).ClickAsync();
        await page.WaitForPageAsync("**/app/runners?disabled=*");
        Assert.Equal("disabled", await page.Locator($"tr[data-runner-id='{registered.RunnerId}']").GetAttributeAsync("data-state"));
        Assert.Contains("build-host-1 is disabled", await page.InnerTextAsync("[role=status]"));

        await page.Locator($"tr[data-runner-id='{registered.RunnerId}']").GetByRole(AriaRole.Button, new() { Name = "Enable build-host-1" }).ClickAsync();
        await page.WaitForPageAsync("**/app/runners?enabled=*");
        Assert.Equal("online", await page.Locator($"tr[data-runner-id='{registered.RunnerId}']").GetAttributeAsync("data-state"));
    }
}
