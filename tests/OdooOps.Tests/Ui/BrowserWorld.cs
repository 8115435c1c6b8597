using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// One real server (Kestrel on loopback) and one headless Chromium for a whole test class: Debian's
/// /usr/bin/chromium (scripts/deps.sh installs it), never a browser Playwright would download.
/// Data: "Acme Corp" (owner ada@acme.test, viewer vic@acme.test) with two projects and their builds; "Labs"
/// (ada too) holding a project whose name is markup.
/// </summary>
public sealed class BrowserWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    public LiveServer Server { get; private set; } = null!;
    IPlaywright? _playwright;
    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "browser");
        await SeedAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
    }

    async Task SeedAsync()
    {
        var owner = Server.Owner;
        var acme = await Accounts.CreateOrgAsync(owner, "acme");
        var labs = await Accounts.CreateOrgAsync(owner, "labs");
        var ada = await Accounts.CreateUserAsync(owner, "ada@acme.test", acme, "owner");
        await Accounts.CreateUserAsync(owner, "vic@acme.test", acme, "viewer");
        var erp = await Accounts.CreateProjectAsync(owner, acme, "erp");
        var shop = await Accounts.CreateProjectAsync(owner, acme, "shop");
        var xss = await Accounts.CreateProjectAsync(owner, labs, "xss");
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("""
            update registry.orgs set name = 'Acme Corp' where id = @acme;
            update registry.orgs set name = 'Labs' where id = @labs;
            insert into registry.org_members (org_id, user_id, role) values (@labs, @ada, 'owner');
            update registry.users set display_name = 'Ada Lovelace' where id = @ada;
            update ops.projects set name = 'Acme ERP', repo_url = 'https://github.com/acme/odoo-erp.git' where id = @erp;
            update ops.projects set name = 'Web shop', repo_url = 'git@github.com:acme/shop.git', runtime_version = '18.0' where id = @shop;
            update ops.projects set name = '<script>alert(1)</script>' where id = @xss;
            insert into ops.builds (project_id, branch_id, status, trigger, created_at)
            select project_id, id, s.status, 'push', now() - s.age
              from ops.branches b
              join (values (@erp, 'main', 'success', interval '5 minutes'), (@erp, 'staging', 'warning', interval '3 hours'),
                           (@shop, 'main', 'failed', interval '2 days'), (@shop, 'feature-x', 'timed_out', interval '40 minutes'))
                   as s(project, branch, status, age) on s.project = b.project_id and s.branch = b.name;
            insert into ops.advisories (project_id, rule, fingerprint, severity, title)
            values (@shop, 'production_build_failed', 'shop-prod', 'critical', 'Production build failed'),
                   (@shop, 'metrics_missing', 'shop-metrics', 'warning', 'No metrics');
            update ops.projects set last_activity_at = now() - interval '5 minutes' where id = @erp;
            update ops.projects set last_activity_at = now() - interval '2 days' where id = @shop;
            """, new { acme, labs, ada, erp, shop, xss });
    }

    /// <summary>A fresh browser context (own cookies) and page, at a 1280 px wide desktop size unless told.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800, bool javaScript = true)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = Server.Url, ViewportSize = new() { Width = width, Height = height }, JavaScriptEnabled = javaScript,
        });
        // A hang guard, not a speed check: on a loaded 2-core machine a page can take seconds to load.
        context.SetDefaultTimeout(60_000);
        return PageWatch.Watch(await context.NewPageAsync());
    }

    public static async Task SignInAsync(IPage page, string email)
    {
        await page.GotoAsync("/login");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", Accounts.Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForPageAsync("**/app/**");
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
    }
}
