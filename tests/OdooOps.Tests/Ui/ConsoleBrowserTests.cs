using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>The console in a real browser: what a person sees and clicks. Screenshots land in bin/…/screenshots.</summary>
public sealed class ConsoleBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    static ILocator Row(IPage page, string slug) => page.Locator($"tr[data-slug='{slug}']");
    static ILocator Stage(IPage page, string stage) => page.Locator($"section[data-stage='{stage}']");

    [Fact]
    public async Task Owner_creates_a_project_promotes_a_branch_and_signs_out()
    {
        var page = await world.NewPageAsync();
        await page.GotoAsync("/login");
        await PageScreenshots.SaveAsync(page, "01-login");
        await BrowserWorld.SignInAsync(page, "ada@acme.test");

        Assert.Equal("Projects", await page.Locator("h1").InnerTextAsync());
        Assert.Contains("Acme ERP", await Row(page, "erp").InnerTextAsync());
        Assert.Contains("Web shop", await Row(page, "shop").InnerTextAsync());
        Assert.Equal("badge expired", await Row(page, "shop").Locator(".badge").GetAttributeAsync("class")); // timed_out (orange), 40 min ago
        Assert.Equal("Ada Lovelace", await page.Locator(".topbar .user-name").InnerTextAsync());
        // Sections not built yet are shown, but are not links.
        Assert.Equal(0, await page.Locator(".sidebar a", new() { HasText = "Builds" }).CountAsync());
        Assert.Equal(1, await page.Locator(".sidebar .nav-item.disabled", new() { HasText = "Builds" }).CountAsync());
        await PageScreenshots.SaveAsync(page, "02-projects");

        // A bad slug first: the message appears next to the slug field and nothing is created.
        await page.FillAsync("#project-name", "Finance");
        await page.FillAsync("#project-slug", "Bad Slug!");
        await page.FillAsync("#project-repo", "https://github.com/acme/finance.git");
        await page.ClickAsync("#new-project button[type=submit]");
        Assert.Contains("Slug must be lower-case letters", await page.Locator("[data-field=slug] .field-error").InnerTextAsync());
        Assert.Equal("Bad Slug!", await page.InputValueAsync("#project-slug"));
        Assert.Equal("project-slug", await page.EvaluateAsync<string>("document.activeElement.id")); // focus on the field to fix
        await PageScreenshots.SaveAsync(page, "03-new-project-error");

        await page.FillAsync("#project-slug", "finance");
        await page.ClickAsync("#new-project button[type=submit]");
        await page.WaitForPageAsync("**/app/projects/finance/branches");
        Assert.Equal("Finance", await page.Locator("h1").InnerTextAsync());
        Assert.Contains("No branches yet", await page.Locator(".empty-state").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "04-new-project-branches");

        await page.ClickAsync(".crumbs a");
        await page.ClickAsync("tr[data-slug='erp'] a.row-link"); // the project's overview, one tab from its branches
        await page.WaitForPageAsync("**/app/projects/erp");
        await page.ClickAsync("nav.tabs a:has-text('Branches')");
        await page.WaitForPageAsync("**/app/projects/erp/branches");
        Assert.Equal(["main"], await Stage(page, "production").Locator("li code.branch").AllInnerTextsAsync());
        await PageScreenshots.SaveAsync(page, "05-branches");

        await page.ClickAsync("li[data-branch='feature-x'] a.promote");
        Assert.Equal("main will move to staging.", await page.Locator(".confirm .replaces").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "06-promote-confirm");
        await page.ClickAsync(".confirm button[type=submit]");
        await page.WaitForPageAsync(new Regex("moved=feature-x"));

        Assert.Equal(["feature-x"], await Stage(page, "production").Locator("li code.branch").AllInnerTextsAsync());
        Assert.Contains("main", await Stage(page, "staging").Locator("li code.branch").AllInnerTextsAsync());
        Assert.Contains("feature-x is now the production branch; main moved to staging.", await page.Locator(".alert.success").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "07-branches-after-promotion");

        await page.ClickAsync(".topbar button:has-text('Sign out')");
        await page.WaitForPageAsync("**/login");
        await page.GotoAsync("/app/projects");
        Assert.EndsWith("/login?returnUrl=%2Fapp%2Fprojects", page.Url);
    }

    [Fact]
    public async Task Anonymous_visitor_signs_in_and_lands_where_they_were_going()
    {
        var page = await world.NewPageAsync();
        await page.GotoAsync("/app/projects/shop/branches");
        Assert.EndsWith("/login?returnUrl=%2Fapp%2Fprojects%2Fshop%2Fbranches", page.Url);

        await page.FillAsync("#email", "vic@acme.test");
        await page.FillAsync("#password", Infrastructure.Accounts.Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForPageAsync("**/app/projects/shop/branches");
        Assert.Equal("Web shop", await page.Locator("h1").InnerTextAsync());
    }

    [Fact]
    public async Task Viewer_is_offered_no_new_project_form_and_no_moves()
    {
        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        Assert.Equal(0, await page.Locator("#new-project").CountAsync());
        Assert.Contains("Only owners and admins of Acme Corp can create projects", await page.Locator(".note").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "08-projects-viewer");

        await page.ClickAsync("tr[data-slug='shop'] a.row-link");
        await page.WaitForPageAsync("**/app/projects/shop");
        await page.ClickAsync("nav.tabs a:has-text('Branches')");
        await page.WaitForPageAsync("**/app/projects/shop/branches");
        Assert.Equal(3, await page.Locator("li.branch-card").CountAsync());
        Assert.Equal(0, await page.Locator(".branch-actions").CountAsync());
        Assert.Equal(0, await page.Locator("form[method=post] button:not(:has-text('Sign out'))").CountAsync());
        await PageScreenshots.SaveAsync(page, "09-branches-viewer");
    }

    [Fact]
    public async Task Markup_in_a_project_name_is_shown_as_text_after_switching_org()
    {
        var page = await world.NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };
        await BrowserWorld.SignInAsync(page, "ada@acme.test");

        // The org switcher submits on change (script) and has a plain submit button for browsers without it.
        await page.SelectOptionAsync("#org-switch", "labs");
        await page.WaitForPageAsync("**/app/projects?org=labs");
        Assert.Equal("<script>alert(1)</script>", await Row(page, "xss").Locator("a.row-link").InnerTextAsync());
        Assert.Equal(0, await page.Locator("tr[data-slug='erp']").CountAsync());
        await page.ClickAsync("tr[data-slug='xss'] a.row-link");
        Assert.Equal("<script>alert(1)</script>", await page.Locator("h1").InnerTextAsync());
        Assert.Equal(0, dialogs);
        await PageScreenshots.SaveAsync(page, "10-markup-as-text");
    }

    [Fact]
    public async Task Org_switcher_works_without_javascript()
    {
        var page = await world.NewPageAsync(javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        Assert.Equal(1, await Row(page, "erp").CountAsync());

        await page.SelectOptionAsync("#org-switch", "labs"); // nothing happens without script…
        await page.ClickAsync(".org-switcher button:has-text('Switch')"); // …so the fallback button is there
        await page.WaitForPageAsync("**/app/projects?org=labs");
        Assert.Equal(1, await Row(page, "xss").CountAsync());
        // The choice is remembered for the next page without ?org=.
        await page.GotoAsync("/app/projects");
        Assert.Equal(0, await Row(page, "erp").CountAsync());
        Assert.Equal("labs", await page.Locator("#org-switch").InputValueAsync());
    }

    [Fact]
    public async Task Projects_page_fits_a_phone_screen_and_uses_our_stylesheet()
    {
        var page = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        // Our stylesheet is applied (not the browser's defaults): the sidebar became a horizontal strip.
        Assert.Equal("flex", await page.Locator(".sidebar").EvaluateAsync<string>("e => getComputedStyle(e).display"));
        Assert.Equal("rgb(113, 75, 103)", await page.Locator(".btn.primary").First.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        // Nothing wider than the screen: no sideways scrolling of the page.
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);
        await PageScreenshots.SaveAsync(page, "11-projects-390px");

        await page.GotoAsync("/app/projects/erp/branches");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);
        await PageScreenshots.SaveAsync(page, "12-branches-390px");
    }
}
