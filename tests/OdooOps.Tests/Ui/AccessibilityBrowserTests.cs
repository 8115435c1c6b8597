using Dapper;
using Deque.AxeCore.Playwright;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// axe-core (Deque.AxeCore.Playwright) over every console page, at desktop and phone widths: no serious or critical
/// violation (contrast, names, labels, links told apart from text, …). A system administrator sees every page,
/// the System page too.
/// </summary>
public sealed class AccessibilityBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>
{
    static readonly string[] Pages =
    [
        "/app/projects", "/app/projects/erp", "/app/projects/erp/branches", "/app/projects/erp/builds", "/app/projects/erp/builds/{build}",
        "/app/projects/erp/instances", "/app/projects/erp/deployments", "/app/projects/erp/backups", "/app/projects/erp/domains",
        "/app/projects/erp/advisories", "/app/projects/erp/members", "/app/projects/erp/settings", "/app/projects/erp/settings/env",
        "/app/metrics", "/app/advisories", "/app/members", "/app/tokens", "/app/audit", "/app/settings", "/app/settings/notifications",
        "/app/runners", "/app/invitations", "/app/system", "/login",
    ];

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task No_page_has_a_serious_or_critical_violation(int width, int height)
    {
        Guid build;
        await using (var conn = await Accounts.OpenAsync(world.Server.Owner))
        {
            await conn.ExecuteAsync("update registry.users set is_system_admin = true where email = 'ada@acme.test'");
            build = await conn.ExecuteScalarAsync<Guid>(
                "select b.id from ops.builds b join ops.projects p on p.id = b.project_id where p.slug = 'erp' order by b.created_at limit 1");
        }
        var page = await world.NewPageAsync(width, height);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        var found = new List<string>();
        foreach (var path in Pages)
        {
            var response = await page.GotoAsync(path.Replace("{build}", build.ToString()));
            Assert.True(response is { Ok: true }, $"{path}: {response?.Status}");
            var result = await page.RunAxe();
            found.AddRange(result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v =>
                $"{path} {v.Impact} {v.Id}: {v.Help} — {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))}"));
        }
        Assert.True(found.Count == 0, string.Join("\n", found));
    }
}
