using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Audit;

/// <summary>
/// The Audit log page in a real browser: reached from the sidebar (no longer "soon"); 50 entries a page and "Older"
/// with a cursor; an actor's link filters by it, the form by action; a bad date is named at its field; the CSV export
/// (the same filters) downloads with its formula cells defused — at 1280 px. At 390 px it fits, and a viewer is told
/// that only owners and admins read it.
/// </summary>
public sealed class AuditBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    public async ValueTask InitializeAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        if (await conn.ExecuteScalarAsync<long>("select count(*) from ops.audit_log where action = 'member.role'") > 0) return;
        await conn.ExecuteAsync("""
            insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip, created_at)
            select o.id, p.id, u.id, case when u.id is null then t.kind else 'user' end, t.action, t.target_type,
                   case when g = 7 then '=cmd|'' /C calc''!A0' else p.id::text end,
                   t.before, t.after, t.ip::inet, now() - make_interval(mins => (130 - g) * 97)
              from generate_series(1, 120) g
              join (values (0, 'ada@acme.test', null, 'project.update', 'project', '{"name": "ERP"}'::jsonb, '{"name": "Acme ERP"}'::jsonb, '203.0.113.10'),
                           (1, null, 'webhook', 'build.trigger', 'build', null, '{"trigger": "push"}', '140.82.115.3'),
                           (2, 'vic@acme.test', null, 'token.create', 'token', null, '{"scope": "read"}', '198.51.100.7'),
                           (3, null, 'system', 'backup.create', 'backup', null, '{"kind": "daily"}', null),
                           (4, 'ada@acme.test', null, 'member.role', 'user', '{"role": "viewer"}', '{"role": "developer"}', '203.0.113.10'))
                   t(n, email, kind, action, target_type, before, after, ip) on t.n = g % 5
              join registry.orgs o on o.slug = 'acme'
              join ops.projects p on p.slug = case when g % 2 = 0 then 'erp' else 'shop' end
              left join registry.users u on u.email = t.email
             order by g
            """);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static Task<long[]> IdsAsync(IPage page) =>
        page.Locator("table.audit tbody tr").EvaluateAllAsync<long[]>("rows => rows.map(r => Number(r.dataset.auditId))");

    [Fact]
    public async Task An_owner_pages_filters_and_exports_the_log()
    {
        var page = await world.NewPageAsync(1280, 900);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.Locator(".sidebar a.nav-item", new() { HasText = "Audit log" }).ClickAsync();
        await page.WaitForPageAsync("**/app/audit");
        var first = await IdsAsync(page);
        Assert.Equal(50, first.Length);
        Assert.Equal(first.OrderDescending(), first);

        await page.ClickAsync("#audit-older");
        await page.WaitForPageAsync(new Regex("cursor=\\d+"));
        var second = await IdsAsync(page);
        Assert.Equal(50, second.Length);
        Assert.True(second.Max() < first.Min());

        await page.GotoAsync("/app/audit");
        await page.Locator("table.audit tbody tr[data-action='backup.create'] td[data-label='Actor'] a").First.ClickAsync();
        await page.WaitForPageAsync(new Regex("actor=system"));
        Assert.All(await page.Locator("td[data-label='Actor']").AllInnerTextsAsync(), a => Assert.Equal("system", a.Trim()));

        await page.GotoAsync("/app/audit");
        await page.FillAsync("#audit-action", "member.*");
        await page.FillAsync("#audit-actor", "ada@acme.test");
        await page.ClickAsync(".audit-filters button[type=submit]");
        await page.WaitForPageAsync(new Regex("action=member"));
        Assert.All(await page.Locator("table.audit tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.action)"), a => Assert.Equal("member.role", a));
        Assert.Equal(24, (await IdsAsync(page)).Length);

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#audit-export"));
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,time_utc,actor,actor_kind,action", lines[0]);
        Assert.Equal(1 + 24, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Contains(",ada@acme.test,user,member.role,", l));

        await page.GotoAsync("/app/audit");
        var all = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#audit-export"));
        var text = await File.ReadAllTextAsync((await all.PathAsync())!);
        Assert.Contains(",'=cmd|' /C calc'!A0,", text);
        Assert.DoesNotContain(",=cmd", text);

        var bad = await page.GotoAsync("/app/audit?from=soon");
        Assert.Equal(400, bad!.Status);
        Assert.Contains("from must be a date", await page.Locator("[data-field='from'] .field-error").InnerTextAsync());
    }

    [Fact]
    public async Task On_a_phone_the_log_fits_and_a_viewer_is_told_it_is_for_admins()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.GotoAsync("/app/audit");
        Assert.Equal(50, (await IdsAsync(page)).Length);
        await PageScreenshots.AssertFitsAsync(page, 390);

        var viewer = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(viewer, "vic@acme.test");
        var response = await viewer.GotoAsync("/app/audit");
        Assert.Equal(403, response!.Status);
        Assert.Equal("Only owners and admins read the audit log", await viewer.Locator(".not-allowed h2").InnerTextAsync());
        Assert.Equal(0, await viewer.Locator("table.audit").CountAsync());
    }
}
