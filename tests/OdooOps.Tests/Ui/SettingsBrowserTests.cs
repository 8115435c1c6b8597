using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The settings pages in a real browser, without JavaScript: a project's ingest tokens (created and shown once, gone
/// from the next page; revoked) and the link to its environment variables, at 1280 px; the organisation's settings from
/// the sidebar (no longer "soon"): a bad version refused next to its field, name, slug and default Odoo version saved,
/// and the notification channels' link — at 1280 px; at 390 px a viewer reads the organisation's settings without a
/// form, and nothing is wider than the screen.
/// </summary>
public sealed class SettingsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    [Fact]
    public async Task An_owner_creates_an_ingest_token_shown_once_and_revokes_it()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/shop/settings");
        Assert.Contains("No ingest tokens yet", await page.Locator(".ingest-empty").InnerTextAsync());
        Assert.Equal("Manage environment variables", await page.Locator("#manage-env").InnerTextAsync());

        await page.ClickAsync("#create-ingest-token");
        Assert.Contains("Name is required", await page.Locator("[data-field='name'] .field-error").InnerTextAsync());
        await page.FillAsync("#ingest-token-name", "prometheus exporter");
        await page.ClickAsync("#create-ingest-token");
        var token = await page.Locator(".ingest-tokens .token-value").InnerTextAsync();
        Assert.Matches("^oo_ing_[0-9A-Za-z]{43}$", token);

        await page.GotoAsync("/app/projects/shop/settings");
        Assert.DoesNotContain(token, await page.ContentAsync());
        var row = page.Locator(".ingest-tokens tr", new() { HasText = "prometheus exporter" });
        Assert.Equal("active", await row.GetAttributeAsync("data-status"));
        await page.ClickAsync("button[aria-label='Revoke prometheus exporter']");
        await page.Locator(".alert.success", new() { HasText = "The ingest token is revoked" }).WaitForAsync();
        Assert.Equal("revoked", await row.GetAttributeAsync("data-status"));

        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(["ingest_token.create", "ingest_token.revoke"],
            (await conn.QueryAsync<string>("select action from ops.audit_log where action like 'ingest_token.%' order by id")).AsList());
    }

    [Fact]
    public async Task An_owner_changes_the_organisation_and_a_viewer_on_a_phone_only_reads_it()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects");
        await page.Locator(".sidebar a.nav-item", new() { HasText = "Settings" }).ClickAsync();
        await page.WaitForPageAsync("**/app/settings");
        Assert.Equal("app/settings/notifications", await page.Locator("#notification-channels").GetAttributeAsync("href"));

        await page.FillAsync("#org-version", "latest");
        await page.ClickAsync("#save-org");
        Assert.Contains("must be an Odoo version", await page.Locator("[data-field='default_odoo_version'] .field-error").InnerTextAsync());

        await page.FillAsync("#org-name", "Acme Corporation");
        await page.FillAsync("#org-slug", "acme-corp");
        await page.FillAsync("#org-version", "18.0");
        await page.ClickAsync("#save-org");
        await page.Locator(".alert.success", new() { HasText = "The organisation's settings are saved" }).WaitForAsync();
        Assert.Contains("org=acme-corp", page.Url);
        Assert.Equal("18.0", await page.InputValueAsync("#org-version"));

        // A new project now starts at 18.0.
        await page.GotoAsync("/app/projects");
        Assert.Equal("18.0", await page.InputValueAsync("#project-version"));

        var viewer = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(viewer, "vic@acme.test");
        await viewer.GotoAsync("/app/settings?org=acme-corp");
        Assert.Equal("Acme Corporation", await viewer.Locator("[data-fact='name']").InnerTextAsync());
        Assert.Equal("18.0", await viewer.Locator("[data-fact='default_odoo_version']").InnerTextAsync());
        Assert.Equal(0, await viewer.Locator("#save-org").CountAsync());
        await PageScreenshots.AssertFitsAsync(viewer, 390);

        var phone = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(phone, "ada@acme.test");
        await phone.GotoAsync("/app/projects/erp/settings?org=acme-corp");
        await phone.Locator("#ingest-tokens").WaitForAsync();
        await PageScreenshots.AssertFitsAsync(phone, 390);

        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from ops.audit_log where action = 'org.update' and after->>'slug' = 'acme-corp'"));
        await conn.ExecuteAsync("update registry.orgs set name = 'Acme Corp', slug = 'acme', default_odoo_version = '19.0' where slug = 'acme-corp'");
    }
}
