using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Advisories;

/// <summary>
/// The Advisories pages in a real browser without JavaScript: the organisation's (the sidebar's Advisories, no longer
/// "soon") and a project's (its tab); filters by severity, status and rule as a GET form; detail and remediation; the
/// suppress dialog (a missing reason named at its field), un-suppress and resolve, each in the advisory's history with
/// who did it — at 1280 px. At 390 px a viewer sees everything and no action, and nothing is wider than the screen.
/// </summary>
public sealed class AdvisoriesBrowserTests(BrowserWorld world) : IClassFixture<BrowserWorld>, IAsyncLifetime
{
    Guid _critical, _warning;

    public async ValueTask InitializeAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        await conn.ExecuteAsync("""
            update ops.advisories a
               set detail = case a.rule when 'production_build_failed' then 'The last 2 builds of main failed: "tests" exited with code 1.'
                                        else 'No metrics from main for 47 minutes (the instance pushes every minute).' end,
                   remediation = case a.rule when 'production_build_failed' then 'Open the failed build''s log, fix the failing step and push; production keeps the last good release meanwhile.'
                                             else 'Check that the instance runs and can reach this server; see the instance''s log.' end
              from ops.projects p
             where p.id = a.project_id and p.slug = 'shop' and a.detail is null
            """);
        (_critical, _warning) = await conn.QuerySingleAsync<(Guid, Guid)>("""
            select (select a.id from ops.advisories a join ops.projects p on p.id = a.project_id where p.slug = 'shop' and a.fingerprint = 'shop-prod'),
                   (select a.id from ops.advisories a join ops.projects p on p.id = a.project_id where p.slug = 'shop' and a.fingerprint = 'shop-metrics')
            """);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static ILocator Card(IPage page, Guid id) => page.Locator($"article.advisory[data-advisory-id='{id}']");

    [Fact]
    public async Task An_owner_filters_suppresses_unsuppresses_and_resolves_without_javascript()
    {
        var page = await world.NewPageAsync(1280, 900, javaScript: false);
        await BrowserWorld.SignInAsync(page, "ada@acme.test");
        await page.Locator(".sidebar a.nav-item", new() { HasText = "Advisories" }).ClickAsync();
        await page.WaitForPageAsync("**/app/advisories");
        Assert.Equal("page", await page.Locator(".sidebar a.nav-item", new() { HasText = "Advisories" }).GetAttributeAsync("aria-current"));
        Assert.Equal([_critical.ToString(), _warning.ToString()], await page.Locator("article.advisory").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.advisoryId)"));
        Assert.Contains("fix the failing step", await Card(page, _critical).Locator(".advisory-remediation").InnerTextAsync());

        await page.SelectOptionAsync("#advisory-severity", "warning");
        await page.ClickAsync(".advisory-filters button[type=submit]");
        await page.WaitForPageAsync(new Regex("severity=warning"));
        Assert.Equal(1, await page.Locator("article.advisory").CountAsync());
        await page.ClickAsync(".advisory-filters a:has-text('Clear')");
        await page.WaitForPageAsync("**/app/advisories");

        // Suppress: a missing reason is named at its field; then it goes through.
        await Card(page, _critical).Locator("a[data-action='suppress']").ClickAsync();
        await page.Locator("#suppress-title").WaitForAsync();
        await page.FillAsync("#suppress-reason", "");
        await page.ClickAsync("#confirm-suppress");
        Assert.Contains("reason is required", await page.Locator("[data-field='reason'] .field-error").InnerTextAsync());
        Assert.Equal("true", await page.Locator("#suppress-reason").GetAttributeAsync("aria-invalid"));
        await page.FillAsync("#suppress-reason", "Hotfix release on Friday");
        await page.ClickAsync("#confirm-suppress");
        await page.Locator(".alert.success", new() { HasText = "Suppressed “Production build failed” until" }).WaitForAsync();

        await page.GotoAsync("/app/advisories?status=suppressed");
        Assert.Contains("Suppressed by Ada Lovelace until", await Card(page, _critical).Locator(".advisory-suppression").InnerTextAsync());
        await Card(page, _critical).Locator(".advisory-history summary").ClickAsync();
        Assert.Contains("Hotfix release on Friday", await Card(page, _critical).Locator(".advisory-history li[data-event='suppressed']").InnerTextAsync());
        await Card(page, _critical).Locator("button", new() { HasText = "Un-suppress" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "“Production build failed” is open again." }).WaitForAsync();

        await page.GotoAsync("/app/advisories");
        await Card(page, _warning).Locator("button", new() { HasText = "Resolve" }).ClickAsync();
        await page.Locator(".alert.success", new() { HasText = "Resolved “No metrics”" }).WaitForAsync();
        Assert.Equal(0, await Card(page, _warning).CountAsync()); // the open list no longer has it

        await page.GotoAsync("/app/advisories?status=all");
        await Card(page, _warning).Locator(".advisory-history summary").ClickAsync();
        Assert.Contains("Resolved by Ada Lovelace", await Card(page, _warning).Locator(".advisory-history li[data-event='resolved']").InnerTextAsync());

        await page.GotoAsync("/app/projects/shop/branches");
        await page.ClickAsync(".tabs a.tab:has-text('Advisories')");
        await page.WaitForPageAsync("**/app/projects/shop/advisories");
        Assert.Equal("page", await page.Locator("nav.tabs a.active").GetAttributeAsync("aria-current"));
        Assert.Equal(1, await page.Locator("article.advisory").CountAsync());
        await page.GotoAsync("/app/projects/shop/advisories?status=all");

        await page.GotoAsync("/app/projects/erp/advisories");
        Assert.Equal("No open advisories", await page.Locator(".empty-state h2").InnerTextAsync());

        await using var conn = await Accounts.OpenAsync(world.Server.Owner);
        Assert.Equal(["advisory.resolve", "advisory.suppress", "advisory.unsuppress"],
            (await conn.QueryAsync<string>("""
                select l.action from ops.audit_log l join registry.users u on u.id = l.actor_user_id
                 where l.target_type = 'advisory' and u.email = 'ada@acme.test' order by l.action
                """)).AsList());
    }

    [Fact]
    public async Task On_a_phone_a_viewer_reads_every_advisory_and_is_offered_no_action()
    {
        var page = await world.NewPageAsync(390, 844);
        await BrowserWorld.SignInAsync(page, "vic@acme.test");
        await page.GotoAsync("/app/advisories?status=all");
        await Card(page, _critical).WaitForAsync();
        Assert.Equal(0, await page.Locator(".advisory-actions, a[data-action='suppress']").CountAsync());
        Assert.Contains("You can read these advisories", await page.Locator(".role-hint").InnerTextAsync());
        await PageScreenshots.AssertFitsAsync(page, 390);

        await page.GotoAsync("/app/projects/shop/advisories");
        Assert.Contains("As viewer, you can see the advisories", await page.Locator(".role-hint").InnerTextAsync());
        await PageScreenshots.AssertFitsAsync(page, 390);
    }
}
