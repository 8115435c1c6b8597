using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// Every action reachable by keyboard (issue 14 §1), on every console page of the demo at desktop and phone widths, as
/// the demo's admin (a system administrator, so the System page too): Tab reaches every visible control, no positive
/// tabindex, nothing listens to clicks that cannot take the focus, and each focused element shows a focus indicator that
/// nothing cuts or covers. The phone's section strip scrolls to the focused section; a "skip to content" link passes the
/// top bar and sections. Dialogs (page states of their own: restore, rollback, removals, suppress, production's stop and
/// restart, promote) take the focus when opened by keyboard, and Escape closes them with the focus back on the opener.
/// </summary>
public sealed class KeyboardBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    /// <summary>uPlot's plot area listens to clicks for its pointer cursor (values under the pointer, drag to zoom); the
    /// metrics page's table holds the same numbers and its ranges and dates choose the span.</summary>
    static readonly Dictionary<string, string> PointerOnly = new()
    {
        ["div.u-wrap "] = "uPlot's plot area", ["div.u-over "] = "uPlot's pointer cursor",
    };

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task Tab_reaches_every_control_on_every_page_and_each_shows_its_focus(int width, int height)
    {
        var pages = await ConsolePages.DemoAsync(world);
        var page = await ConsolePages.AdminPageAsync(world, width, height);
        await Keyboard.InstallAsync(page);
        var found = await ConsolePages.CheckEachAsync(page, pages, async _ => (await Keyboard.WalkAsync(page, PointerOnly)).Select(problem => $"at {width} px: {problem}"));
        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    [Fact]
    public async Task On_a_phone_the_section_strip_shows_the_current_section_and_scrolls_to_the_focused_one()
    {
        var page = await Keyboard.OpenAsync(world, $"/app/projects/{ConsolePages.Project}/builds", 390, 844);
        var sections = await page.Locator(".sidebar a.nav-item").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('href'))");
        Assert.True(sections.Length >= 10, string.Join(", ", sections));
        await Keyboard.TabToAsync(page, ".sidebar a.nav-item");
        foreach (var href in sections)
        {
            Assert.Equal(href, await page.EvaluateAsync<string>("() => document.activeElement.getAttribute('href')"));
            // The strip scrolls sideways: the focused section is inside its visible part, not past the screen's edge.
            var where = await page.EvaluateAsync<string>("""
                () => { const r = document.activeElement.getBoundingClientRect(), s = document.querySelector('.sidebar').getBoundingClientRect();
                        return r.left >= s.left - 1 && r.right <= s.right + 1 && r.right <= innerWidth ? ''
                            : `at ${r.left}…${r.right}, the strip ${s.left}…${s.right} scrolled ${document.querySelector('.sidebar').scrollLeft}`; }
                """);
            Assert.True(where == "", $"{href} is out of sight in the strip: {where}");
            await page.Keyboard.PressAsync("Tab");
        }
        // Past the strip, Tab goes on into the page; Enter on a section opens it.
        Assert.False(await Keyboard.FocusIsAsync(page, ".sidebar *"));
        await page.Keyboard.PressAsync("Shift+Tab");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForPageAsync("**" + sections[^1]);

        // A page opens with its own section and tab in the part of the strips shown, not past the screen's edge.
        foreach (var (path, current) in new[] { ("/app/audit", ".sidebar a[aria-current=page]"), ($"/app/projects/{ConsolePages.Project}/settings", ".tabs a[aria-current=page]") })
        {
            await page.GotoAsync(path);
            Assert.True(await page.Locator(current).EvaluateAsync<bool>("""
                a => { const r = a.getBoundingClientRect(), s = a.parentElement.closest('.sidebar, .tabs').getBoundingClientRect();
                       return r.left >= s.left - 1 && r.right <= s.right + 1; }
                """), $"{path}: {current} is out of sight");
        }
    }

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task The_skip_link_comes_first_and_takes_the_focus_past_the_top_bar_and_sections(int width, int height)
    {
        var page = await Keyboard.OpenAsync(world, $"/app/projects/{ConsolePages.Project}/deployments?from=somewhere", width, height);
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "a.skip-link"), await Keyboard.FocusedAsync(page));
        Assert.True(await page.Locator("a.skip-link").IsVisibleAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => { const r = document.activeElement.getBoundingClientRect(); return r.top >= 0 && r.left >= 0 && r.width > 20; }"),
            "the focused skip link is on the screen");
        await page.Keyboard.PressAsync("Enter");
        Assert.EndsWith("/deployments?from=somewhere#main", page.Url); // the same page, not the base URL's root
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "main *"), await Keyboard.FocusedAsync(page));
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.closest('main').querySelector('a[href], button, input, select') === document.activeElement"),
            $"the first control of the page's content, not {await Keyboard.FocusedAsync(page)}");
    }

    public static TheoryData<string, string, string> Dialogs() => new()
    {
        { "promote", $"/app/projects/{ConsolePages.Project}/branches", "a.promote" },
        { "restart production", $"/app/projects/{ConsolePages.Project}/instances", "a[data-action='restart']" },
        { "rollback", $"/app/projects/{ConsolePages.Project}/deployments", "a[data-action='rollback']" },
        { "restore", $"/app/projects/{ConsolePages.Project}/backups", "a[href*='restore=']" },
        { "remove domain", $"/app/projects/{ConsolePages.Project}/domains", "a[href*='remove=']" },
        { "remove variable", $"/app/projects/{ConsolePages.Project}/settings/env", "a[href*='remove=']" },
        { "suppress advisory", "/app/advisories", "a[data-action='suppress']" },
        { "remove member", "/app/members", "a[data-action='remove']" },
        { "remove project member", "/app/projects/shop/members", "a[data-action='remove']" },
        { "remove channel", "/app/settings/notifications", "a[href*='delete=']" },
    };

    const string DialogLoaded = "() => document.querySelector('.card.confirm') && document.readyState === 'complete'";

    [Theory]
    [MemberData(nameof(Dialogs))]
    public async Task A_dialog_opened_by_keyboard_takes_the_focus_and_Escape_returns_it_to_the_opener(string dialog, string path, string opener)
    {
        var page = await Keyboard.OpenAsync(world, path);
        var openers = page.Locator($"main {opener}");
        Assert.True(await openers.CountAsync() > 0, $"{dialog}: no {opener} on {path}");
        // The last one: a row further down than the first, whose focus coming back is not an accident of the page's start.
        var href = await openers.Last.GetAttributeAsync("href");
        await Keyboard.TabToAsync(page, $"main {opener}[href='{href}']");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync(DialogLoaded); // its script has run too
        Assert.True(await Keyboard.FocusIsAsync(page, ".card.confirm *"), $"{dialog}: the focus is on {await Keyboard.FocusedAsync(page)}");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__kb.step().indicator"), $"{dialog}: {await Keyboard.FocusedAsync(page)} shows no focus");
        // Nothing destructive has the focus: Enter right away must not confirm.
        Assert.False(await Keyboard.FocusIsAsync(page, "button.danger, button[type=submit]"), $"{dialog}: {await Keyboard.FocusedAsync(page)}");

        await page.Keyboard.PressAsync("Escape");
        await page.WaitForFunctionAsync("() => !document.querySelector('.card.confirm') && document.readyState === 'complete'");
        Assert.Equal(href, await page.EvaluateAsync<string?>("() => document.activeElement?.getAttribute('href')"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.__kb.step().indicator"), $"{dialog}: the opener shows no focus");

        // The dialog's Cancel, by keyboard, does the same.
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync(DialogLoaded); // its script has run too
        await Keyboard.TabToAsync(page, ".card.confirm .confirm-actions a.btn:not(.danger):not(.primary)");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => !document.querySelector('.card.confirm') && document.readyState === 'complete'");
        Assert.Equal(href, await page.EvaluateAsync<string?>("() => document.activeElement?.getAttribute('href')"));
    }

    [Fact]
    public async Task An_advisory_history_opens_and_closes_with_the_keyboard()
    {
        var page = await Keyboard.OpenAsync(world, "/app/advisories", 390, 844);
        await Keyboard.TabToAsync(page, "details.advisory-history > summary");
        Assert.False(await page.EvaluateAsync<bool>("() => document.activeElement.parentElement.open"));
        await page.Keyboard.PressAsync("Enter");
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.parentElement.open"));
        await page.Keyboard.PressAsync("Space");
        Assert.False(await page.EvaluateAsync<bool>("() => document.activeElement.parentElement.open"));
    }

    [Fact]
    public async Task The_organisation_switcher_waits_for_Enter_so_arrows_can_look_through_the_organisations()
    {
        var page = await Keyboard.OpenAsync(world, "/app/projects");
        await Keyboard.TabToAsync(page, "#org-switch");
        // A form submitted by script is counted: the change event runs with the key press, so the count is final when it returns.
        await page.EvaluateAsync("""
            () => { window.__submits = 0; const submit = HTMLFormElement.prototype.submit, request = HTMLFormElement.prototype.requestSubmit;
                    HTMLFormElement.prototype.submit = function () { window.__submits++; return submit.call(this); };
                    HTMLFormElement.prototype.requestSubmit = function (b) { window.__submits++; return request.call(this, b); }; }
            """);
        await page.Keyboard.PressAsync("ArrowDown");
        Assert.Equal("second", await page.EvaluateAsync<string>("() => document.activeElement.value"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__submits"));
        Assert.True(await Keyboard.FocusIsAsync(page, "#org-switch"));
        // Left without Enter: nothing submitted, and it shows the page's organisation again.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__submits"));
        Assert.NotEqual("second", await page.EvaluateAsync<string>("() => document.querySelector('#org-switch').value"));
        await page.Keyboard.PressAsync("Shift+Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "#org-switch"));
        await page.Keyboard.PressAsync("ArrowDown");
        Assert.Equal("second", await page.EvaluateAsync<string>("() => document.activeElement.value"));
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForPageAsync("**/app/projects?org=second");
        Assert.Contains("Second Company", await page.Locator("#org-switch option:checked").InnerTextAsync());
    }
}
