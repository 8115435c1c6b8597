using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Backups;
using OdooOps.Tests.Backups.Storage;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The Backups page's import form and Cancel buttons in a real browser. At 1280 px without JavaScript (plain form
/// posts): an owner imports an Odoo zip into staging — it appears in staging's list as kind import, taken — then a file
/// that is no zip, which is refused with the reason on the page and nothing stored; then restores production's backup
/// into staging and cancels the queued restore from the In progress list, which ends it cancelled (audited). At 390 px
/// a tester is offered staging and development to import into, imports and is refused the same way, sees production's
/// queued backup without a Cancel button (an admin's), cancels a queued restore into development, and nothing is wider
/// than the screen.
/// </summary>
public sealed class BackupImportCancelBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    Guid _verified, _main, _featureX;

    public async ValueTask InitializeAsync()
    {
        var owner = world.Server.Owner;
        await using var conn = await Accounts.OpenAsync(owner);
        var (project, org) = await conn.QuerySingleAsync<(Guid, Guid)>("select id, org_id from ops.projects where slug = 'erp'");
        _main = await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @project and name = 'main'", new { project });
        _featureX = await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @project and name = 'feature-x'", new { project });
        if (await conn.ExecuteScalarAsync<long>("select count(*) from ops.backups where project_id = @project", new { project }) == 0)
        {
            var runner = await BackupRows.HostAsync(owner, project, "main");
            await BackupRows.HostAsync(owner, project, "staging", runner);
            await BackupRows.InsertAsync(owner, _main, new(Kind: "daily", Verification: "verified", Age: TimeSpan.FromHours(3)));
            await Accounts.CreateUserAsync(owner, "tess@acme.test", org, "tester");
        }
        _verified = await conn.ExecuteScalarAsync<Guid>("select id from ops.backups where project_id = @project and kind = 'daily'", new { project });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static ILocator Card(IPage page, string branch) => page.Locator($"section.backup-branch[data-branch='{branch}']");
    static ILocator TaskRow(IPage page, Guid id) => page.Locator($".backup-tasks tr[data-task-id='{id}']");

    static async Task ImportAsync(IPage page, string branch, string fileName, byte[] bytes)
    {
        await page.SelectOptionAsync("#import-branch", new SelectOptionValue { Label = branch });
        await page.SetInputFilesAsync("#import-file", new FilePayload { Name = fileName, MimeType = "application/zip", Buffer = bytes });
        await page.ClickAsync("#import-submit");
    }

    async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task An_owner_imports_a_zip_is_told_why_a_bad_one_is_refused_and_cancels_a_queued_restore()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/backups");
        Assert.Contains("up to 100 GiB", await page.Locator(".backup-import .subtitle").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "77-backups-import-1280");

        await ImportAsync(page, "staging (staging)", "erp.zip", BackupZips.Odoos("create table partner (id int);"));
        await page.Locator(".alert.success", new() { HasText = "Imported as a backup of staging" }).WaitForAsync();
        var imported = Card(page, "staging").Locator("tr[data-kind='import']");
        Assert.Equal(1, await imported.CountAsync());
        Assert.Equal("succeeded", await imported.GetAttributeAsync("data-status"));
        Assert.Equal("import", await imported.Locator("td[data-label='Kind']").InnerTextAsync());

        await ImportAsync(page, "staging (staging)", "notes.zip", "name,amount\nx,1\n"u8.ToArray());
        var error = page.Locator(".alert.error");
        await error.WaitForAsync();
        Assert.Equal("The import into staging failed: Not a backup zip: The file is not a zip. Nothing was stored.", await error.InnerTextAsync());
        Assert.Equal("failed", await Card(page, "staging").Locator("tr[data-kind='import'][data-status='failed'] .badge").First.InnerTextAsync());
        Assert.Equal(0L, await ScalarAsync<long>(
            "select count(*) from ops.backups where kind = 'import' and status = 'failed' and (storage_key is not null or size_bytes is not null)", new { }));
        await PageScreenshots.SaveAsync(page, "78-backups-import-refused");

        // A restore into staging, queued; cancelled from the In progress list before a runner takes it.
        await page.GotoAsync($"/app/projects/erp/backups?restore={_verified}");
        await page.ClickAsync(".restore-targets a[data-into='staging']");
        await page.ClickAsync("#confirm-restore");
        await page.Locator(".alert.success", new() { HasText = "Restore into staging queued" }).WaitForAsync();
        var restore = await ScalarAsync<Guid>("select id from ops.runner_tasks where backup_id = @_verified and kind = 'restore' and status = 'queued'", new { _verified });
        Assert.Equal("queued", await TaskRow(page, restore).Locator(".badge").InnerTextAsync());
        await PageScreenshots.SaveAsync(page, "79-backups-in-progress");
        await TaskRow(page, restore).Locator("button", new() { HasText = "Cancel" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "Restore into staging cancelled." }).WaitForAsync();
        Assert.Equal(0, await TaskRow(page, restore).CountAsync());
        Assert.Equal("cancelled", await ScalarAsync<string>("select status from ops.runner_tasks where id = @restore", new { restore }));
        Assert.Equal(1L, await ScalarAsync<long>("select count(*) from ops.audit_log where action = 'runner_task.cancel' and target_id = @id", new { id = restore.ToString() }));
    }

    [Fact]
    public async Task On_a_phone_a_tester_imports_off_production_and_cancels_only_what_a_tester_may_start()
    {
        var backupOfMain = await BackupRows.InsertAsync(world.Server.Owner, _main, new(Status: "pending"));
        var restoreIntoDev = await BackupRows.InsertAsync(world.Server.Owner, _main, new(Verification: "verified"));
        var (production, development) = (await QueueAsync("backup", _main, backupOfMain), await QueueAsync("restore", _featureX, restoreIntoDev));

        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "tess@acme.test");
        await page.GotoAsync("/app/projects/erp/backups");
        Assert.Equal(["feature-x (development)", "staging (staging)"],
            (await page.Locator("#import-branch option").AllInnerTextsAsync()).Order());
        Assert.Equal(0, await TaskRow(page, production).Locator("button").CountAsync()); // production's backups are admins'
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, "wider than the screen");
        await PageScreenshots.SaveAsync(page, "80-backups-390-tester-import-cancel");

        await ImportAsync(page, "feature-x (development)", "erp.zip", BackupZips.Odoos("select 1;"));
        await page.Locator(".alert.success", new() { HasText = "Imported as a backup of feature-x" }).WaitForAsync();
        Assert.Equal("succeeded", await Card(page, "feature-x").Locator("tr[data-kind='import']").First.GetAttributeAsync("data-status"));
        await ImportAsync(page, "feature-x (development)", "broken.zip", [0x50, 0x4b, 0x03, 0x04, 0, 0]);
        Assert.StartsWith("The import into feature-x failed: Not a backup zip", await page.Locator(".alert.error").InnerTextAsync());

        await TaskRow(page, development).Locator("button", new() { HasText = "Cancel" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "Restore into feature-x cancelled." }).WaitForAsync();
        Assert.Equal("cancelled", await ScalarAsync<string>("select status from ops.runner_tasks where id = @development", new { development }));
        Assert.Equal("queued", await ScalarAsync<string>("select status from ops.runner_tasks where id = @production", new { production }));
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, "wider than the screen");
    }

    async Task<Guid> QueueAsync(string kind, Guid branch, Guid backup) => await ScalarAsync<Guid>("""
        insert into ops.runner_tasks (project_id, branch_id, kind, backup_id)
        select project_id, id, @kind, @backup from ops.branches where id = @branch returning id
        """, new { kind, branch, backup });
}
