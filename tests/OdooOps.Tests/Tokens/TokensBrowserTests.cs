using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Tokens;

/// <summary>/app/tokens in a real browser: create a token, see it once, revoke it, on a desktop and on a phone.
/// Screenshots land in bin/…/screenshots as tokens-*.png.</summary>
public sealed class TokensBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    [Fact]
    public async Task Owner_creates_a_token_sees_it_once_and_revokes_it()
    {
        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.ClickAsync(".sidebar a:has-text('Tokens')");
        await page.WaitForPageAsync("**/app/tokens");
        Assert.Equal("Access tokens", await page.Locator("h1").InnerTextAsync());
        Assert.Contains("odooops login --token <token>", await page.Locator(".empty-state").InnerTextAsync());
        Assert.True(await page.IsCheckedAsync("input[name='Input.Scope'][value=read]"));
        Assert.Equal("30", await page.InputValueAsync("#token-expiry"));
        await PageScreenshots.SaveAsync(page, "tokens-01-empty");

        // An empty name first: the message is next to the field, which takes the focus.
        await page.ClickAsync("#new-token button[type=submit]");
        Assert.Equal("Name is required.", await page.Locator("[data-field=name] .field-error").InnerTextAsync());
        Assert.Equal("token-name", await page.EvaluateAsync<string>("document.activeElement.id"));

        await page.FillAsync("#token-name", "laptop CLI");
        await page.CheckAsync("input[name='Input.Scope'][value=write]");
        await page.SelectOptionAsync("#token-expiry", "90");
        await page.ClickAsync("#new-token button[type=submit]");
        var token = await page.Locator(".token-created .token-value").InnerTextAsync();
        Assert.Matches("^oo_pat_[0-9A-Za-z]{43}$", token);
        Assert.Contains("only time the token is shown", await page.Locator(".token-created").InnerTextAsync());
        var row = page.Locator("tr[data-status=active]", new() { HasText = "laptop CLI" });
        Assert.Equal("write", await row.Locator("[data-scope]").InnerTextAsync());
        Assert.Matches(@"^\d{1,2} [A-Z][a-z]{2}( \d{4})?$", await row.Locator("td[data-label=Expires]").InnerTextAsync()); // far off: a date
        Assert.Equal("never", await row.Locator("td[data-label='Last used']").InnerTextAsync());
        Assert.Equal("", await page.InputValueAsync("#token-name")); // the form starts over
        await PageScreenshots.SaveAsync(page, "tokens-02-created");

        await page.GotoAsync("/app/tokens");
        Assert.Equal(0, await page.Locator(".token-created").CountAsync());
        Assert.DoesNotContain(token, await page.ContentAsync());

        await row.Locator("button:has-text('Revoke')").ClickAsync();
        await page.WaitForPageAsync(new Regex("/app/tokens\\?revoked="));
        var revoked = page.Locator("tr", new() { HasText = "laptop CLI" });
        Assert.Equal("revoked", await revoked.GetAttributeAsync("data-status"));
        Assert.Equal(0, await revoked.Locator("button").CountAsync());
        Assert.Contains("is revoked", await page.Locator(".alert.success").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "tokens-03-revoked");
    }

    [Fact]
    public async Task Tokens_page_fits_a_phone_screen()
    {
        var page = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/tokens");
        await page.FillAsync("#token-name", "a rather long token name for the phone screen test");
        await page.ClickAsync("#new-token button[type=submit]");
        await page.Locator(".token-value").WaitForAsync();
        // Neither the 50-character token nor the table makes the page scroll sideways.
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);
        await PageScreenshots.SaveAsync(page, "tokens-04-390px");
    }
}
