using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Branches;

/// <summary>
/// A branch's instance page in headless Chromium at 1280 and 390 px: the owner opens it from the branches page, sizes
/// staging's instance, is stopped by a bad value on its field, moves the branch to another host and is told the instance
/// stays; the phone layout needs no sideways scrolling. Screenshots land in bin/…/screenshots as branch-instance-*.png.
/// </summary>
public sealed class BranchInstanceBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    async Task<string> StoredAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        return await conn.ExecuteScalarAsync<string>("""
            select concat_ws('/', b.instance_workers, b.instance_memory_mb, coalesce(r.name, '-'))
              from ops.branches b join ops.projects p on p.id = b.project_id join registry.orgs o on o.id = p.org_id
              left join ops.runners r on r.id = b.runner_id
             where o.slug = 'acme' and p.slug = 'erp' and b.name = 'staging'
            """) ?? "";
    }

    [Fact]
    public async Task An_owner_sizes_staging_and_moves_it_to_another_host_at_desktop_and_phone_widths()
    {
        await using (var conn = await Accounts.OpenAsync(world.Server.Owner))
            await conn.ExecuteAsync("""
                insert into ops.runners (org_id, name, token_hash, serves_instances, instance_capacity)
                select id, 'big-host', sha256('big-host'::bytea), true, 10 from registry.orgs where slug = 'acme'
                """);
        var page = await world.NewPageAsync();
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/projects/erp/branches");
        await page.ClickAsync("li[data-branch=staging] a.branch-instance");
        await page.WaitForPageAsync("**/app/projects/erp/branches/*/instance");
        Assert.Equal("2048", await page.InputValueAsync("#instance-memory"));
        await PageScreenshots.SaveAsync(page, "branch-instance-01-1280px");

        // A bad value: its message next to the field, which takes the focus; nothing saved.
        await page.FillAsync("#instance-workers", "4");
        await page.FillAsync("#instance-memory", "64");
        await page.ClickAsync("#save-instance-settings");
        Assert.StartsWith("memory_mb must be between 128", await page.InnerTextAsync("[data-field=memory_mb] .field-error"));
        // The browser focuses an autofocus field when it next renders, not always by the time the text is there: wait for it.
        await page.WaitForFunctionAsync("document.activeElement && document.activeElement.id === 'instance-memory'");
        Assert.Equal("0/2048/-", await StoredAsync());

        await page.FillAsync("#instance-memory", "4096");
        await page.ClickAsync("#save-instance-settings");
        await page.WaitForPageAsync("**/instance?saved=settings");
        Assert.Contains("next start or restart", await page.InnerTextAsync("[role=status]"));
        Assert.Equal("4096", await page.InputValueAsync("#instance-memory"));

        await page.SelectOptionAsync("#host-runner", new Microsoft.Playwright.SelectOptionValue { Label = "big-host · 0 of 10" });
        await page.ClickAsync("#move-host");
        await page.WaitForPageAsync("**/instance?saved=host");
        Assert.Contains("must be moved with a backup and restore", await page.InnerTextAsync("[role=status]"));
        Assert.Contains("big-host", await page.InnerTextAsync("[data-fact=host]"));
        Assert.Equal("4/4096/big-host", await StoredAsync());
        await PageScreenshots.SaveAsync(page, "branch-instance-02-moved");

        var phone = await world.NewPageAsync(width: 390, height: 844);
        await BrowserWorld.SignInAsync(phone, "ada@acme.test");
        await phone.GotoAsync(page.Url.Split('?')[0]);
        Assert.Equal("4", await phone.InputValueAsync("#instance-workers"));
        Assert.True(await phone.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);
        await PageScreenshots.SaveAsync(phone, "branch-instance-03-390px");
    }
}
