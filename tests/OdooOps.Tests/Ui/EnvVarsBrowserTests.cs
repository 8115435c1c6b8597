using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The environment page in a real browser, without JavaScript (plain form posts): reached from the project's settings;
/// its empty state; a plain variable added and edited, a bad name refused next to its field, a secret added and replaced
/// whose value is never in any page the browser gets; a change naming the staging instance to restart, restarted from
/// there; a removal with a confirmation — at 1280 px. At 390 px a developer changes staging but sees no production
/// secret nor production actions, a viewer is told the page is not for its role, and nothing is wider than the screen.
/// </summary>
public sealed class EnvVarsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    const string Secret = "Sup3r-Secret-SMTP-Value";
    Guid _staging;

    public async ValueTask InitializeAsync()
    {
        var owner = world.Server.Owner;
        await using var conn = await Accounts.OpenAsync(owner);
        var (project, org) = await conn.QuerySingleAsync<(Guid, Guid)>("select id, org_id from ops.projects where slug = 'erp'");
        _staging = await conn.ExecuteScalarAsync<Guid?>("select id from ops.instances where project_id = @project and stage = 'staging'", new { project })
                   ?? await InstanceRows.InsertAsync(owner, project, "staging");
        if (await conn.ExecuteScalarAsync<int>("select count(*) from registry.users where email = 'dev@acme.test'") == 0)
            await Accounts.CreateUserAsync(owner, "dev@acme.test", org, "developer");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static ILocator Row(IPage page, string stage, string name) => page.Locator($"section.env-stage[data-stage='{stage}'] tr[data-name='{name}']");

    static async Task AddAsync(IPage page, string stage, string name, string value, bool secret = false)
    {
        await page.Locator("#env-stage").SelectOptionAsync(stage);
        await page.FillAsync("#env-name", name);
        await page.FillAsync("#env-value", value);
        if (secret) await page.CheckAsync("#env-secret");
        await page.ClickAsync("#save-env-var");
    }

    [Fact]
    public async Task An_owner_adds_edits_replaces_restarts_and_removes_without_javascript()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/shop/settings");
        await page.ClickAsync("#manage-env");
        await page.WaitForPageAsync("**/app/projects/shop/settings/env");
        Assert.Equal("Settings", await page.Locator("nav.tabs a.active").InnerTextAsync());
        Assert.Contains("No environment variables yet", await page.Locator(".empty-state h2").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "env-empty-1280");
        await page.GotoAsync("/app/projects/erp/settings/env");

        await AddAsync(page, "staging", "SHOP_MODE", "test");
        await page.Locator(".alert.success", new() { HasText = "SHOP_MODE is saved on staging" }).WaitForAsync();
        Assert.Equal("test", await Row(page, "staging", "SHOP_MODE").Locator(".env-value").InnerTextAsync());
        // The staging instance started before this change: restart it from here.
        var restart = page.Locator($".restart-needed li[data-instance-id='{_staging}']");
        Assert.Equal(1, await restart.CountAsync());

        await AddAsync(page, "staging", "PGHOST", "db.example");
        Assert.Contains("is set by the platform itself", await page.Locator("[data-field='name'] .field-error").InnerTextAsync());
        Assert.Equal("true", await page.Locator("#env-name").GetAttributeAsync("aria-invalid"));

        await AddAsync(page, "production", "SMTP_PASSWORD", Secret, secret: true);
        await page.Locator(".alert.success", new() { HasText = "SMTP_PASSWORD is saved on production" }).WaitForAsync();
        Assert.Equal("set", await Row(page, "production", "SMTP_PASSWORD").Locator(".env-secret-set").InnerTextAsync());
        Assert.DoesNotContain("Secret-SMTP", await page.ContentAsync());

        await page.ClickAsync("a[aria-label='Edit SHOP_MODE on staging']");
        Assert.Equal("test", await page.InputValueAsync("#env-value"));
        await page.FillAsync("#env-value", "live");
        await page.ClickAsync("#save-env-var");
        await page.Locator(".alert.success", new() { HasText = "SHOP_MODE is saved on staging" }).WaitForAsync();
        Assert.Equal("live", await Row(page, "staging", "SHOP_MODE").Locator(".env-value").InnerTextAsync());

        await page.ClickAsync("a[aria-label='Replace SMTP_PASSWORD on production']");
        Assert.Equal("", await page.InputValueAsync("#env-value")); // never sent back
        Assert.DoesNotContain("Secret-SMTP", await page.ContentAsync());
        await page.FillAsync("#env-value", Secret + "-2");
        await page.ClickAsync("#save-env-var");
        await page.Locator(".alert.success", new() { HasText = "SMTP_PASSWORD is saved on production" }).WaitForAsync();
        Assert.DoesNotContain("Secret-SMTP", await page.ContentAsync());

        await page.ClickAsync($".restart-needed li[data-instance-id='{_staging}'] button[data-action='restart']");
        await page.Locator(".alert.success", new() { HasText = "Restart requested for staging" }).WaitForAsync();

        await page.ClickAsync("a[aria-label='Remove SHOP_MODE from staging']");
        await page.Locator("#env-remove-title", new() { HasText = "Remove SHOP_MODE from staging?" }).WaitForAsync();
        await PageScreenshots.SaveAsync(page, "env-remove-1280");
        await page.ClickAsync("#confirm-remove");
        await page.Locator(".alert.success", new() { HasText = "SHOP_MODE is removed from staging" }).WaitForAsync();
        Assert.Equal(0, await Row(page, "staging", "SHOP_MODE").CountAsync());

        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(["env.set", "env.set", "env.set", "env.set", "env.unset", "instance.restart"],
            (await conn.QueryAsync<string>("""
                select action from ops.audit_log
                 where (action like 'env.%' or action = 'instance.restart') and actor_user_id = (select id from registry.users where email = 'ada@acme.test')
                 order by action
                """)).AsList());
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.env_vars where value like '%Secret-SMTP%' or sealed like '%Secret-SMTP%'"));
    }

    [Fact]
    public async Task On_a_phone_a_developer_changes_staging_only_and_a_viewer_is_turned_away()
    {
        await using (var conn = await Accounts.OpenAsync(world.Server.Owner))
            await conn.ExecuteAsync("""
                insert into ops.env_vars (project_id, stage, name, sealed, is_secret)
                select id, 'production', 'ADMIN_ONLY_TOKEN', 'v1.0.AAAA', true from ops.projects where slug = 'erp'
                on conflict do nothing;
                insert into ops.env_vars (project_id, stage, name, value)
                select id, 'production', 'SITE_NAME', 'Acme' from ops.projects where slug = 'erp'
                on conflict do nothing;
                """);
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "dev@acme.test");
        await page.GotoAsync("/app/projects/erp/settings/env");
        await page.Locator("#env-form").WaitForAsync();
        Assert.Equal(["development", "staging"], await page.Locator("#env-stage option").EvaluateAllAsync<string[]>("els => els.map(e => e.value)"));
        Assert.Equal(0, await Row(page, "production", "ADMIN_ONLY_TOKEN").CountAsync()); // production's secrets: admins only
        Assert.Equal(0, await Row(page, "production", "SITE_NAME").Locator("a").CountAsync());
        Assert.Contains("production's are for admins", await page.Locator(".role-hint").InnerTextAsync());
        await AddAsync(page, "development", "DEBUG_TOOLBAR", "1");
        await page.Locator(".alert.success", new() { HasText = "DEBUG_TOOLBAR is saved on development" }).WaitForAsync();
        await PageScreenshots.AssertFitsAsync(page, 390);

        var viewer = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(viewer, "vic@acme.test");
        var response = await viewer.GotoAsync("/app/projects/erp/settings/env");
        Assert.Equal(403, response!.Status);
        Assert.Contains("Not for your role", await viewer.Locator(".empty-state h2").InnerTextAsync());
        Assert.Equal(0, await viewer.Locator("#env-form, section.env-stage").CountAsync());
        await PageScreenshots.AssertFitsAsync(viewer, 390);
    }
}
