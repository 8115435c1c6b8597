using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The Domains page in a real browser, without JavaScript (plain form posts): reached from the project's tabs; add a
/// name, check it (TestDns: *.here.test points at this server, *.elsewhere.test elsewhere), see why one is not verified,
/// a bad name refused next to its field, remove with a confirmation — at 1280 px; a viewer at 390 px sees the list and
/// no actions, and nothing is wider than the screen.
/// </summary>
public sealed class DomainsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    static ILocator Row(IPage page, string name) => page.Locator($"tr[data-domain='{name}']");

    async Task AddAsync(IPage page, string name, string branch = "main")
    {
        await page.FillAsync("#domain-name", name);
        await page.Locator("#domain-branch").SelectOptionAsync(new SelectOptionValue { Label = $"{branch} (production)" });
        await page.ClickAsync("#add-domain-submit");
    }

    [Fact]
    public async Task An_owner_adds_checks_and_removes_domains_without_javascript()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/branches");
        await page.Locator("nav.tabs a", new() { HasText = "Domains" }).ClickAsync();
        await page.WaitForPageAsync("**/app/projects/erp/domains");
        Assert.Equal("page", await page.Locator("nav.tabs a.active").GetAttributeAsync("aria-current"));

        await AddAsync(page, "Shop.Here.test");
        await page.Locator(".alert.success", new() { HasText = "shop.here.test is added" }).WaitForAsync();
        Assert.Equal("false", await Row(page, "shop.here.test").GetAttributeAsync("data-verified"));

        await page.ClickAsync("button[aria-label='Check shop.here.test']");
        await page.Locator(".alert.success", new() { HasText = "shop.here.test points at this server" }).WaitForAsync();
        Assert.Equal("true", await Row(page, "shop.here.test").GetAttributeAsync("data-verified"));

        await AddAsync(page, "old.elsewhere.test");
        await page.ClickAsync("button[aria-label='Check old.elsewhere.test']");
        await page.Locator(".alert.warning", new() { HasText = "old.elsewhere.test is not verified" }).WaitForAsync();
        Assert.Equal("resolves to 203.0.113.9, not this server (127.0.0.1)", await Row(page, "old.elsewhere.test").Locator(".check-error").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "60-domains-1280");

        await AddAsync(page, "not a name");
        Assert.Contains("must be a domain name", await page.Locator("[data-field='name'] .field-error").InnerTextAsync());
        Assert.Equal("not a name", await page.InputValueAsync("#domain-name"));
        await PageScreenshots.SaveAsync(page, "61-domains-invalid");

        await page.ClickAsync("a[aria-label='Remove old.elsewhere.test']");
        await page.Locator("#confirm-title", new() { HasText = "Remove old.elsewhere.test?" }).WaitForAsync();
        await PageScreenshots.SaveAsync(page, "62-domains-confirm-remove");
        await page.ClickAsync("#confirm-remove");
        await page.Locator(".alert.success", new() { HasText = "The domain is removed" }).WaitForAsync();
        Assert.Equal(0, await Row(page, "old.elsewhere.test").CountAsync());
        Assert.Equal(1, await Row(page, "shop.here.test").CountAsync());
    }

    [Fact]
    public async Task A_viewer_on_a_phone_sees_the_domains_and_no_actions()
    {
        await using (var conn = await Accounts.OpenAsync(world.Server.Owner))
            await Dapper.SqlMapper.ExecuteAsync(conn, """
                insert into ops.instance_domains (project_id, branch_id, name, verified_at, checked_at)
                select p.id, b.id, 'erp.here.test', now(), now() from ops.projects p join ops.branches b on b.project_id = p.id
                 where p.slug = 'erp' and b.name = 'main' on conflict do nothing
                """);
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/projects/erp/domains");
        await Row(page, "erp.here.test").WaitForAsync();
        Assert.Equal(0, await page.Locator("#add-domain").CountAsync());
        Assert.Equal(0, await page.Locator("button[name='CheckId'], a[aria-label^='Remove']").CountAsync());
        Assert.Matches(new Regex("can see the domains but not change them"), await page.Locator(".note").First.InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "63-domains-390-viewer");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, "wider than the screen");
    }
}
