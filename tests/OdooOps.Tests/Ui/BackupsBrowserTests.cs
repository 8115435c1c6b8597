using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Backups;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The Backups page in a real browser, without JavaScript (plain form posts): reached from the sidebar (no longer
/// "soon") and the project's tabs; each branch's backups with kind, size, verified state and why not; Back up now;
/// Download gives the signed link; the restore dialog — production asks for the branch's name (a wrong one is refused
/// next to the field) and says a pre-restore backup is taken first, staging says it will be neutralised — at 1280 px. At
/// 390 px a viewer sees the list and no actions, a tester is offered staging and development only, and nothing is wider
/// than the screen.
/// </summary>
public sealed class BackupsBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    Guid _verified, _corrupt;

    public async ValueTask InitializeAsync()
    {
        var owner = world.Server.Owner;
        await using var conn = await Accounts.OpenAsync(owner);
        var (project, org) = await conn.QuerySingleAsync<(Guid, Guid)>("select id, org_id from ops.projects where slug = 'erp'");
        if (await conn.ExecuteScalarAsync<long>("select count(*) from ops.backups where project_id = @project", new { project }) == 0)
        {
            var main = await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @project and name = 'main'", new { project });
            var runner = await BackupRows.HostAsync(owner, project, "main");
            await BackupRows.HostAsync(owner, project, "staging", runner);
            await BackupRows.InsertAsync(owner, main, new(Kind: "daily", Verification: "verified", Age: TimeSpan.FromHours(3)));
            var corrupt = await BackupRows.InsertAsync(owner, main, new(Kind: "manual", Verification: "failed", Age: TimeSpan.FromHours(1)));
            await conn.ExecuteAsync("update ops.backups set verification_reason = 'table count 12, manifest says 14' where id = @corrupt", new { corrupt });
            await Accounts.CreateUserAsync(owner, "tess@acme.test", org, "tester");
        }
        _verified = await conn.ExecuteScalarAsync<Guid>("select id from ops.backups where project_id = @project and kind = 'daily' and verification = 'verified'", new { project });
        _corrupt = await conn.ExecuteScalarAsync<Guid>(
            "select id from ops.backups where project_id = @project and kind = 'manual' and verification = 'failed'", new { project });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static ILocator Row(IPage page, Guid id) => page.Locator($"tr[data-backup-id='{id}']");
    static ILocator Card(IPage page, string branch) => page.Locator($"section.backup-branch[data-branch='{branch}']");

    [Fact]
    public async Task An_owner_backs_up_downloads_and_restores_without_javascript()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/branches");
        await page.Locator(".sidebar a.nav-item", new() { HasText = "Backups" }).ClickAsync();
        await page.WaitForPageAsync("**/app/projects/erp/backups");
        Assert.Equal("page", await page.Locator("nav.tabs a.active").GetAttributeAsync("aria-current"));
        Assert.Equal("Backups", await page.Locator("nav.tabs a.active").InnerTextAsync());
        Assert.Contains("every day at 03:00 UTC", await page.Locator(".schedule-note").InnerTextAsync());

        Assert.Equal("verified", await Row(page, _verified).Locator("td[data-label='Verified'] .badge").InnerTextAsync());
        Assert.Equal("120.6 KiB", await Row(page, _verified).Locator("td[data-label='Size']").InnerTextAsync());
        Assert.Equal("2", await Row(page, _verified).Locator("td[data-label='Modules']").InnerTextAsync());
        Assert.Equal("table count 12, manifest says 14", await Row(page, _corrupt).Locator(".verification-reason").InnerTextAsync());
        Assert.Equal(0, await Row(page, _corrupt).Locator("a", new() { HasText = "Restore" }).CountAsync()); // a failed verification is not offered
        await PageScreenshots.SaveAsync(page, "70-backups-1280");

        await page.ClickAsync("button[aria-label='Back up now: staging']");
        await page.Locator(".alert.success", new() { HasText = "Backup of staging queued" }).WaitForAsync();
        Assert.Equal("pending", await Card(page, "staging").Locator("tr[data-kind='manual'] td[data-label='Status'] .badge").InnerTextAsync());

        await Row(page, _verified).Locator("button", new() { HasText = "Download" }).ClickAsync();
        var link = page.Locator("#download-link");
        await link.WaitForAsync();
        Assert.Matches(new Regex($"^{Regex.Escape(world.Server.Url)}/api/ops/backups/{_verified}/download\\?expires=\\d+&sig=[0-9a-f]{{64}}$"),
            await link.GetAttributeAsync("href"));
        await PageScreenshots.SaveAsync(page, "71-backups-download");

        // Production: the name typed, a pre-restore backup first.
        await Row(page, _verified).Locator("a", new() { HasText = "Restore" }).ClickAsync();
        await page.Locator("#restore-title").WaitForAsync();
        await PageScreenshots.SaveAsync(page, "72-backups-restore-targets");
        await page.ClickAsync(".restore-targets a[data-into='main']");
        Assert.Contains("A pre-restore backup of main is taken first", await page.Locator(".restore-consequence").InnerTextAsync());
        await page.FillAsync("#restore-confirm", "Main");
        await page.ClickAsync("#confirm-restore");
        Assert.Contains("Type the branch name, main, to confirm", await page.Locator(".restore-dialog .alert.error").InnerTextAsync());
        Assert.Equal("true", await page.Locator("#restore-confirm").GetAttributeAsync("aria-invalid"));
        await PageScreenshots.SaveAsync(page, "73-backups-restore-production-refused");
        await page.FillAsync("#restore-confirm", "main");
        await page.ClickAsync("#confirm-restore");
        await page.Locator(".alert.success", new() { HasText = "Restore into main queued: a pre-restore backup of main is taken first" }).WaitForAsync();
        Assert.Equal(1, await Card(page, "main").Locator("tr[data-kind='pre-restore']").CountAsync());

        // Staging: neutralised, no name to type.
        await Row(page, _verified).Locator("a", new() { HasText = "Restore" }).ClickAsync();
        await page.ClickAsync(".restore-targets a[data-into='staging']");
        Assert.Contains("then neutralises it", await page.Locator(".restore-consequence").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#restore-confirm").CountAsync());
        await PageScreenshots.SaveAsync(page, "74-backups-restore-staging");
        await page.ClickAsync("#confirm-restore");
        await page.Locator(".alert.success", new() { HasText = "Restore into staging queued: the restored database is neutralised" }).WaitForAsync();

        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(["backup.create", "backup.download", "backup.restore", "backup.restore"],
            (await conn.QueryAsync<string>("select action from ops.audit_log where action like 'backup.%' order by action")).AsList());
    }

    [Fact]
    public async Task On_a_phone_a_viewer_sees_the_backups_and_no_actions_and_a_tester_restores_only_off_production()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/projects/erp/backups");
        await Row(page, _verified).WaitForAsync();
        Assert.Equal(0, await page.Locator(".backup-actions, button.backup-now").CountAsync());
        Assert.Contains("can see the backups but not take, download, verify, import or restore them", await page.Locator(".role-hint").InnerTextAsync());
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, "wider than the screen");
        await PageScreenshots.SaveAsync(page, "75-backups-390-viewer");

        var tester = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(tester, "tess@acme.test");
        await tester.GotoAsync("/app/projects/erp/backups");
        // Production's backups are admins': no download or verify, but a tester may restore one into staging or development.
        Assert.Equal(0, await Row(tester, _verified).Locator("button", new() { HasText = "Download" }).CountAsync());
        await Row(tester, _verified).Locator("a", new() { HasText = "Restore" }).ClickAsync();
        await tester.Locator("#restore-title").WaitForAsync();
        Assert.Equal(["feature-x", "staging"], (await tester.Locator(".restore-targets a").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.into)")).Order());
        Assert.True(await tester.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, "wider than the screen");
        await PageScreenshots.SaveAsync(tester, "76-backups-390-tester-restore");
    }
}
