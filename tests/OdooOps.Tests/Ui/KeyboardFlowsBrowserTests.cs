using Dapper;
using Microsoft.Playwright;
using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// Whole tasks done with the keyboard alone (Tab, typing, arrows, Enter; no click, no fill) on the demo as its admin:
/// create a project, add an environment variable from the project's settings, resolve an advisory, change a member's
/// role. Each ends on the page that shows the change, and the database holds it.
/// </summary>
public sealed class KeyboardFlowsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await ConsolePages.DemoAsync(world);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    Task<IPage> StartAsync(string path, int width = 1280) => Keyboard.OpenAsync(world, path, width);

    async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task A_project_is_created_from_the_projects_page()
    {
        var page = await StartAsync("/app/projects");
        await Keyboard.TabToAsync(page, "a[href$='#new-project']");
        await page.Keyboard.PressAsync("Enter");
        // The link leads the keyboard to the form: the next Tab is its first field.
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "#project-name"), await Keyboard.FocusedAsync(page));
        await page.Keyboard.TypeAsync("Keyboard Shop");
        await page.Keyboard.PressAsync("Tab"); // the slug: derived from the name
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "#project-repo"), await Keyboard.FocusedAsync(page));
        await page.Keyboard.TypeAsync("https://github.com/acme/keyboard-shop.git");
        await Keyboard.TabToAsync(page, "#new-project button[type=submit]", limit: 3);
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForPageAsync("**/app/projects/keyboard-shop/branches");
        Assert.Contains("Keyboard Shop", await page.Locator("h1").InnerTextAsync());
        Assert.Equal("https://github.com/acme/keyboard-shop.git",
            await ScalarAsync<string>("select repo_url from ops.projects where slug = 'keyboard-shop' and name = 'Keyboard Shop'"));
    }

    [Fact]
    public async Task An_environment_variable_is_added_from_the_project_settings()
    {
        var page = await StartAsync($"/app/projects/{ConsolePages.Project}/settings");
        await Keyboard.TabToAsync(page, "#manage-env");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForPageAsync("**/settings/env");
        await Keyboard.TabToAsync(page, "a[href$='#env-form']");
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "#env-stage"), await Keyboard.FocusedAsync(page));
        await page.Keyboard.TypeAsync("Staging"); // a select's type-ahead
        Assert.Equal("staging", await page.EvaluateAsync<string>("() => document.activeElement.value"));
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("KEYBOARD_FLAG");
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await Keyboard.FocusIsAsync(page, "#env-value"), await Keyboard.FocusedAsync(page));
        await page.Keyboard.TypeAsync("on");
        await Keyboard.TabToAsync(page, "#save-env-var", limit: 3);
        await page.Keyboard.PressAsync("Enter");

        var row = page.Locator("section.env-stage[data-stage='staging'] tr[data-name='KEYBOARD_FLAG']");
        await row.WaitForAsync();
        Assert.Equal("on", await row.Locator(".env-value").InnerTextAsync());
        Assert.Equal("on", await ScalarAsync<string>("""
            select v.value from ops.env_vars v join ops.projects p on p.id = v.project_id
             where p.slug = @Project and v.stage = 'staging' and v.name = 'KEYBOARD_FLAG' and not v.is_secret
            """, new { ConsolePages.Project }));
    }

    [Fact]
    public async Task An_advisory_is_resolved()
    {
        var id = await ScalarAsync<Guid>("""
            select a.id from ops.advisories a join ops.projects p on p.id = a.project_id join registry.orgs o on o.id = p.org_id
             where o.slug = @OrgSlug and a.status = 'open' order by a.first_seen_at limit 1
            """, new { DemoData.OrgSlug });
        var page = await StartAsync("/app/advisories?status=open", width: 390);
        await Keyboard.TabToAsync(page, $"button[value='resolve:{id}']");
        await page.Keyboard.PressAsync("Enter");

        await page.Locator($"article[data-advisory-id='{id}'][data-status='resolved'], .alert.success").First.WaitForAsync();
        Assert.Equal("resolved", await ScalarAsync<string>("select status from ops.advisories where id = @id", new { id }));
        Assert.Equal(1, await page.Locator(".alert.success").CountAsync());
        Assert.Equal(0, await page.Locator($"button[value='resolve:{id}']").CountAsync());
    }

    [Fact]
    public async Task A_members_role_is_changed()
    {
        var sam = await ScalarAsync<Guid>("select id from registry.users where email = 'sam.admin@demo.odooops.dev'");
        var page = await StartAsync("/app/members");
        await Keyboard.TabToAsync(page, $"#role-{sam}");
        Assert.Equal("admin", await page.EvaluateAsync<string>("() => document.activeElement.value"));
        await page.Keyboard.PressAsync("ArrowDown");
        Assert.Equal("developer", await page.EvaluateAsync<string>("() => document.activeElement.value"));
        await Keyboard.TabToAsync(page, $"button[name='ChangeRole'][value='{sam}']", limit: 3);
        await page.Keyboard.PressAsync("Enter");

        await page.Locator($"tr[data-member-id='{sam}'][data-role='developer']").WaitForAsync();
        Assert.Equal("developer", await ScalarAsync<string>("""
            select m.role from registry.org_members m join registry.orgs o on o.id = m.org_id where o.slug = @OrgSlug and m.user_id = @sam
            """, new { DemoData.OrgSlug, sam }));
    }
}
