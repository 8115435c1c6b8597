using Dapper;
using Microsoft.Playwright;
using OdooOps.Seed;
using OdooOps.Tests.Backups;
using OdooOps.Tests.Deployments;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// Every console page, for the checks that run over all of them (axe, keyboard, screenshots): its name (the screenshot's
/// file name) and its path on the demo data, Production ERP's pages for a project's. The demo is loaded into a
/// <see cref="BrowserWorld"/> with what it lacks for every page to show content: a backup and a custom domain of
/// production, two releases of staging on a host that keeps them (a rollback), and a second organisation for the
/// organisation switcher. Its admin signs in as a system administrator.
/// </summary>
public static class ConsolePages
{
    public sealed record Page(string Name, string Path);

    public const string Project = "prod-erp";
    const string P = "/app/projects/" + Project;

    /// <summary>The pages, with {build}, {instance} and {branch} standing for one of the project's (see <see cref="DemoAsync"/>).</summary>
    public static readonly Page[] All =
    [
        new("projects", "/app/projects"), new("overview", P), new("branches", P + "/branches"),
        new("branch-instance", P + "/branches/{branch}/instance"), new("builds", P + "/builds"), new("build", P + "/builds/{build}"),
        new("instances", P + "/instances"), new("instance", P + "/instances/{instance}"), new("deployments", P + "/deployments"),
        new("backups", P + "/backups"), new("domains", P + "/domains"), new("project-advisories", P + "/advisories"),
        new("project-members", P + "/members"), new("project-settings", P + "/settings"), new("env", P + "/settings/env"),
        new("metrics", "/app/metrics"), new("advisories", "/app/advisories"), new("members", "/app/members"), new("tokens", "/app/tokens"),
        new("audit", "/app/audit"), new("org-settings", "/app/settings"), new("notifications", "/app/settings/notifications"),
        new("runners", "/app/runners"), new("invitations", "/app/invitations"), new("system", "/app/system"), new("login", "/login"),
    ];

    /// <summary>Loads the demo (once per world; later calls find it), and returns every page with its placeholders filled in.</summary>
    public static async Task<IReadOnlyList<Page>> DemoAsync(BrowserWorld world)
    {
        var owner = world.Server.Owner;
        await DemoData.SeedAsync(owner.ConnectionString, Accounts.Password, TextWriter.Null);
        await using var conn = await Accounts.OpenAsync(owner);
        var (project, main) = await conn.QuerySingleAsync<(Guid, Guid)>("""
            select p.id, b.id from ops.projects p join ops.branches b on b.project_id = p.id and b.name = 'main' where p.slug = @Project
            """, new { Project });
        if (await conn.ExecuteScalarAsync<long>("select count(*) from ops.backups where project_id = @project", new { project }) == 0)
        {
            await BackupRows.InsertAsync(owner, main, new(Kind: "daily", Verification: "verified", Age: TimeSpan.FromHours(3)));
            await conn.ExecuteAsync("""
                update registry.users set is_system_admin = true where email = @AdminEmail;
                insert into ops.instance_domains (project_id, branch_id, name, verified_at, checked_at)
                values (@project, @main, 'erp.example.test', now(), now()) on conflict do nothing;
                insert into registry.orgs (name, slug) values ('Second Company', 'second') on conflict do nothing;
                insert into registry.org_members (org_id, user_id, role)
                select o.id, u.id, 'viewer' from registry.orgs o, registry.users u where o.slug = 'second' and u.email = @AdminEmail
                on conflict do nothing;
                """, new { project, main, DemoData.AdminEmail });
            // Two releases of staging on a host that keeps them: the earlier one can be rolled back to.
            var org = await conn.ExecuteScalarAsync<Guid>("select org_id from ops.projects where id = @project", new { project });
            var host = await DeploymentRows.RunnerAsync(owner, org, "demo-host");
            await DeploymentRows.ReleaseAsync(owner, project, "staging", host, "5d1e2c3b4a596877");
            await DeploymentRows.ReleaseAsync(owner, project, "staging", host, "9a8b7c6d5e4f3a2b");
        }
        var (build, instance) = await conn.QuerySingleAsync<(Guid, Guid)>("""
            select (select id from ops.builds where branch_id = @main and status = 'success' order by created_at desc limit 1),
                   (select id from ops.instances where branch_id = @main and is_current)
            """, new { main });
        return All.Select(p => p with
        {
            Path = p.Path.Replace("{build}", build.ToString()).Replace("{instance}", instance.ToString()).Replace("{branch}", main.ToString()),
        }).ToList();
    }

    /// <summary>Opens every page in turn on <paramref name="page"/> (each must answer 200) and gathers what
    /// <paramref name="check"/> finds on each, every finding prefixed with the page's path.</summary>
    public static async Task<List<string>> CheckEachAsync(IPage page, IEnumerable<Page> pages, Func<Page, Task<IEnumerable<string>>> check)
    {
        var found = new List<string>();
        foreach (var p in pages)
        {
            var response = await page.GotoAsync(p.Path);
            Assert.True(response is { Ok: true }, $"{p.Path}: {response?.Status}");
            found.AddRange((await check(p)).Select(finding => $"{p.Path}: {finding}"));
        }
        return found;
    }

    /// <summary>A page at that size signed in as the demo's admin (a system administrator here).</summary>
    public static async Task<IPage> AdminPageAsync(BrowserWorld world, int width, int height)
    {
        var page = await world.NewPageAsync(width, height);
        await BrowserWorld.SignInAsync(page, DemoData.AdminEmail);
        return page;
    }
}
