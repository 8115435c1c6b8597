using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Members;

/// <summary>
/// The Members pages in a real browser without JavaScript: the organisation's (the sidebar's Members, no longer
/// "soon") and a project's (its tab, with its empty state); add by email (an outsider is invited, the invitation
/// withdrawn), change a role, the last owner's demotion refused on the page, removal through its dialog, a colleague
/// added to a project at once — at 1280 px. At 390 px a viewer sees the members and no controls, and nothing is wider
/// than the screen.
/// </summary>
public sealed class MembersBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    public async ValueTask InitializeAsync()
    {
        var owner = world.Server.Owner;
        await using var conn = await Accounts.OpenAsync(owner);
        if (await conn.ExecuteScalarAsync<bool>("select exists (select 1 from registry.users where email = 'sam@acme.test')")) return;
        var acme = await conn.ExecuteScalarAsync<Guid>("select id from registry.orgs where slug = 'acme'");
        var sam = await Accounts.CreateUserAsync(owner, "sam@acme.test", acme, "admin");
        await conn.ExecuteAsync("""
            update registry.users set display_name = 'Sam Admin' where id = @sam;
            insert into ops.member_invitations (org_id, email, role, invited_by, expires_at)
            select @acme, 'newbie@acme.test', 'tester', id, now() + interval '14 days' from registry.users where email = 'ada@acme.test';
            """, new { sam, acme });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static ILocator Row(IPage page, string email) => page.Locator($"table.members tr[data-email='{email}']");

    [Fact]
    public async Task An_owner_adds_invites_changes_and_removes_members_without_javascript()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.Locator(".sidebar a.nav-item", new() { HasText = "Members" }).ClickAsync();
        await page.WaitForPageAsync("**/app/members");
        Assert.Equal("owner", await Row(page, "ada@acme.test").GetAttributeAsync("data-role"));
        Assert.Equal(1, await page.Locator("table.invitations tr[data-email='newbie@acme.test']").CountAsync());

        await page.FillAsync("#member-email", "dev@elsewhere.test");
        await page.SelectOptionAsync("#member-role", "developer");
        await page.ClickAsync("#add-member-submit");
        await page.Locator(".alert.success", new() { HasText = "dev@elsewhere.test was invited as developer" }).WaitForAsync();
        await page.ClickAsync("table.invitations button[aria-label='Withdraw the invitation of dev@elsewhere.test']");
        await page.Locator(".alert.success", new() { HasText = "Invitation withdrawn." }).WaitForAsync();
        Assert.Equal(0, await page.Locator("table.invitations tr[data-email='dev@elsewhere.test']").CountAsync());

        await Row(page, "vic@acme.test").Locator("select").SelectOptionAsync("tester");
        await Row(page, "vic@acme.test").Locator("button", new() { HasText = "Change role" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "vic@acme.test is now tester." }).WaitForAsync();

        // The one owner stays owner: the rule's refusal is shown on the page.
        await Row(page, "ada@acme.test").Locator("select").SelectOptionAsync("admin");
        await Row(page, "ada@acme.test").Locator("button", new() { HasText = "Change role" }).ClickAsync();
        Assert.Contains("ada@acme.test is the organisation's last owner and cannot be demoted", await page.Locator(".alert.error").InnerTextAsync());
        Assert.Equal("owner", await Row(page, "ada@acme.test").GetAttributeAsync("data-role"));
        await PageScreenshots.SaveAsync(page, "members-last-owner-1280");

        await Row(page, "sam@acme.test").Locator("a[data-action='remove']").ClickAsync();
        await page.Locator("#remove-title").WaitForAsync();
        Assert.Contains("Remove sam@acme.test from Acme Corp?", await page.Locator("#remove-title").InnerTextAsync());
        await page.ClickAsync("#confirm-remove");
        await page.Locator(".alert.success", new() { HasText = "Member removed." }).WaitForAsync();
        Assert.Equal(0, await Row(page, "sam@acme.test").CountAsync());

        await page.GotoAsync("/app/projects/erp/branches");
        await page.ClickAsync(".tabs a.tab:has-text('Members')");
        await page.WaitForPageAsync("**/app/projects/erp/members");
        Assert.Equal("No project members yet", await page.Locator(".empty-state h2").InnerTextAsync());
        await page.FillAsync("#member-email", "vic@acme.test");
        await page.SelectOptionAsync("#member-role", "developer");
        await page.ClickAsync("#add-member-submit");
        await page.Locator(".alert.success", new() { HasText = "vic@acme.test joined Acme ERP as developer." }).WaitForAsync();

        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(["member.add", "member.invite", "member.invite_withdraw", "member.remove", "member.role"],
            (await conn.QueryAsync<string>("select distinct action from ops.audit_log where action like 'member.%' order by 1")).AsList());
    }

    [Fact]
    public async Task On_a_phone_a_viewer_sees_the_members_and_no_controls()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/members");
        await Row(page, "ada@acme.test").WaitForAsync();
        Assert.Equal(0, await page.Locator("table.members select, #add-member, table.invitations, a[data-action='remove']").CountAsync());
        Assert.Contains("adding and changing them needs an admin", await page.Locator(".role-hint").InnerTextAsync());
        await PageScreenshots.AssertFitsAsync(page, 390);

        var owner = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(owner, "ada@acme.test");
        await owner.GotoAsync("/app/projects/erp/members");
        await owner.Locator("#add-member").WaitForAsync();
        await PageScreenshots.AssertFitsAsync(owner, 390);
    }
}
