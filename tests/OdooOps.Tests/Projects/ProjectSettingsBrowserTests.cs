using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Projects;

/// <summary>
/// A project's settings page in headless Chromium: the owner opens it from the project's tabs, is stopped by a bad
/// repository URL, saves the general settings and the runner labels, rotates the webhook secret and sees it once; a
/// viewer sees the values only. Screenshots land in bin/…/screenshots as project-settings-*.png.
/// </summary>
public sealed class ProjectSettingsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    [Fact]
    public async Task An_owner_changes_the_settings_and_rotates_the_secret_and_a_viewer_only_reads_them()
    {
        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/branches");
        await page.ClickAsync("nav.tabs a:has-text('Settings')");
        await page.WaitForPageAsync("**/app/projects/erp/settings");
        Assert.Equal("https://github.com/acme/odoo-erp.git", await page.InputValueAsync("#settings-repo"));
        Assert.Contains("/hooks/github/", await page.InnerTextAsync("[data-hook=github]"));
        await PageScreenshots.SaveAsync(page, "project-settings-admin");

        // A bad repository URL: its message next to the field, which takes the focus; nothing saved.
        await page.FillAsync("#settings-name", "Acme ERP v2");
        await page.FillAsync("#settings-repo", "not a repo");
        await page.ClickAsync("#save-general");
        Assert.StartsWith("Repository URL must be a git URL", await page.InnerTextAsync("[data-field=repo_url] .field-error"));
        Assert.Equal("settings-repo", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.Equal("Acme ERP", await NameAsync());

        await page.FillAsync("#settings-repo", "git@github.com:acme/odoo-erp.git");
        await page.FillAsync("#settings-version", "18.0");
        await page.ClickAsync("#save-general");
        await page.WaitForPageAsync("**/settings?saved=general");
        Assert.Contains("settings are saved", await page.InnerTextAsync("[role=status]"));
        Assert.Equal("Acme ERP v2", await NameAsync());
        Assert.Contains("Odoo 18.0", await page.InnerTextAsync(".page-header .subtitle"));

        await page.FillAsync("#settings-labels", "odoo18, big-memory");
        await page.ClickAsync("#save-labels");
        await page.WaitForPageAsync("**/settings?saved=labels");
        Assert.Equal("big-memory, odoo18", await page.InputValueAsync("#settings-labels"));

        await page.ClickAsync("#rotate-webhook-secret");
        var secret = (await page.InnerTextAsync(".webhook-secret")).Trim();
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.Equal("true", await page.GetAttributeAsync("[data-fact=secret]", "data-secret-set"));
        await PageScreenshots.SaveAsync(page, "project-settings-secret");
        await page.GotoAsync("/app/projects/erp/settings");
        Assert.DoesNotContain(secret, await page.ContentAsync()); // shown once only

        var viewer = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(viewer, "vic@acme.test");
        await viewer.GotoAsync("/app/projects/erp/settings");
        Assert.Equal("Acme ERP v2", await viewer.InnerTextAsync("[data-fact=name]"));
        Assert.Equal("big-memory,odoo18", await viewer.GetAttributeAsync("[data-labels]", "data-labels"));
        Assert.Equal(0, await viewer.Locator("main form").CountAsync());
        Assert.Equal(0, await viewer.Locator("#webhooks").CountAsync());
        await PageScreenshots.SaveAsync(viewer, "project-settings-viewer");
    }

    async Task<string> NameAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return await conn.ExecuteScalarAsync<string>("select p.name from ops.projects p join registry.orgs o on o.id = p.org_id where o.slug = 'acme' and p.slug = 'erp'") ?? "";
    }
}
