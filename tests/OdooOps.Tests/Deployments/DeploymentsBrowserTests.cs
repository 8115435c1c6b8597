using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// The Deployments page in a real browser, at 1280 and 390 px: the history with its outcome badges, the rollback dialog
/// that says plainly the database is not rolled back and offers the pre-deploy backup of the deployment being undone,
/// and a rollback carried out from it; a viewer is offered nothing and the page fits a phone.
/// </summary>
public sealed class DeploymentsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    async Task<(Guid Project, Guid Runner)> ErpAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        var (project, org) = await conn.QuerySingleAsync<(Guid, Guid)>("select id, org_id from ops.projects where slug = 'erp'");
        return (project, await DeploymentRows.RunnerAsync(world.Server.Owner, org, $"host-{Guid.NewGuid():N}"));
    }

    static async Task AssertFitsAsync(Microsoft.Playwright.IPage page)
    {
        var wide = await page.EvaluateAsync<string>("Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className).join(' | ')");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, wide);
    }

    [Fact]
    public async Task The_history_shows_outcomes_and_a_rollback_goes_through_its_dialog()
    {
        var (erp, runner) = await ErpAsync();
        var ada = await UserIdAsync("ada@acme.test");
        var first = await DeploymentRows.ReleaseAsync(world.Server.Owner, erp, "main", runner, "abcdef0123456789", ada);
        var second = await DeploymentRows.ReleaseAsync(world.Server.Owner, erp, "main", runner, "fedcba9876543210");
        var backup = await DeploymentRows.BackupAsync(world.Server.Owner, erp, "main", second.BuildId);

        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/branches");
        await page.ClickAsync(".tabs a.tab:has-text('Deployments')");
        await page.WaitForPageAsync("**/app/projects/erp/deployments");
        Assert.Equal(1, await page.Locator(".sidebar a.nav-item.active", new() { HasText = "Deployments" }).CountAsync());
        var live = page.Locator($"tr[data-deployment-id='{second.DeploymentId}']");
        Assert.Equal("live", await live.Locator(".badge").InnerTextAsync());
        Assert.Equal(0, await live.Locator("[data-action='rollback']").CountAsync());
        var old = page.Locator($"tr[data-deployment-id='{first.DeploymentId}']");
        Assert.Equal("superseded", await old.Locator(".badge").InnerTextAsync());
        Assert.Contains("Ada Lovelace", await old.InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "60-deployments");

        await old.Locator("a[data-action='rollback']").ClickAsync();
        await page.WaitForPageAsync(new Regex("rollback="));
        Assert.Contains("Roll main back to abcdef012345", await page.Locator("#rollback-title").InnerTextAsync());
        Assert.Contains("The database is not rolled back.", await page.Locator(".database-notice").InnerTextAsync());
        Assert.Equal(backup.ToString(), await page.Locator("#restore-pre-deploy").GetAttributeAsync("value"));
        Assert.True(await page.Locator($"input[name='Restore'][value='none']").IsCheckedAsync());
        Assert.Equal("live", await DeploymentRows.StatusAsync(world.Server.Owner, second.DeploymentId)); // nothing happened yet
        await PageScreenshots.SaveAsync(page, "61-deployments-rollback");

        await page.ClickAsync("#confirm-rollback");
        await page.WaitForPageAsync(new Regex("done=rollback"));
        Assert.Contains("the database was not rolled back", await page.Locator(".alert.success").InnerTextAsync());
        Assert.Equal("rolled_back", await DeploymentRows.StatusAsync(world.Server.Owner, second.DeploymentId));
        var rollback = page.Locator("tr[data-status='live']", new() { HasText = "rollback" });
        Assert.Contains("abcdef012345", await rollback.InnerTextAsync());
    }

    [Fact]
    public async Task On_a_phone_the_page_and_its_dialog_fit_and_a_viewer_is_offered_nothing()
    {
        var (erp, runner) = await ErpAsync();
        var first = await DeploymentRows.ReleaseAsync(world.Server.Owner, erp, "staging", runner, "0123456789abcdef");
        await DeploymentRows.ReleaseAsync(world.Server.Owner, erp, "staging", runner, "1111222233334444");

        var viewer = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(viewer, "vic@acme.test");
        await viewer.GotoAsync("/app/projects/erp/deployments");
        Assert.Equal("Deployments", await viewer.Locator("h1").InnerTextAsync());
        Assert.True(await viewer.Locator($"tr[data-deployment-id='{first.DeploymentId}']").IsVisibleAsync());
        Assert.Equal(0, await viewer.Locator("[data-action]").CountAsync());
        await viewer.GotoAsync($"/app/projects/erp/deployments?rollback={first.DeploymentId}"); // asking is not enough
        Assert.Equal(0, await viewer.Locator("#rollback-title").CountAsync());
        await AssertFitsAsync(viewer);
        await PageScreenshots.SaveAsync(viewer, "62-deployments-390px");

        var owner = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(owner, "ada@acme.test");
        await owner.GotoAsync("/app/projects/erp/deployments");
        await owner.Locator($"tr[data-deployment-id='{first.DeploymentId}'] a[data-action='rollback']").ClickAsync();
        await owner.WaitForPageAsync(new Regex("rollback="));
        Assert.Contains("The database is not rolled back.", await owner.Locator(".database-notice").InnerTextAsync());
        Assert.Contains("no pre-deploy backup", await owner.Locator(".no-backup").InnerTextAsync());
        await AssertFitsAsync(owner);
        await PageScreenshots.SaveAsync(owner, "63-deployments-rollback-390px");
    }

    async Task<Guid> UserIdAsync(string email)
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from registry.users where email = @email", new { email });
    }
}
