using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// The Runners page's instance hosting: every member sees whether each runner serves instances, how many are placed of
/// its capacity, its instance address and last sync; admins open a runner's hosting form and save it (audited as the API
/// audits it), bad capacities stay on their field, shared runners are offered to system administrators only, and a
/// forged post by a viewer changes nothing.
/// </summary>
public sealed class RunnerHostingPageTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>
{
    const string Url = "/app/runners";

    static string Row(string html, Guid id) =>
        Regex.Match(html, $"<tr data-runner-id=\"{id}\".*?</tr>", RegexOptions.Singleline) is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException($"No row for runner {id} in the page.");

    Task<string> StoredAsync(Guid runner) =>
        world.ScalarAsync<string>("select serves_instances || '/' || instance_capacity from ops.runners where id = @runner", new { runner });

    [Fact]
    public async Task Members_see_each_runner_s_hosting_and_no_hosting_controls()
    {
        var host = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-host"), DateTime.UtcNow);
        await world.ExecuteAsync("update ops.runners set instance_address = '10.1.2.3', instances_seen_at = now() - interval '3 hours' where id = @Id", host);
        var builder = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-builder"), DateTime.UtcNow);
        await world.ExecuteAsync("update ops.runners set serves_instances = false where id = @Id", builder);
        var viewer = await world.ConsoleAsync("viewer");

        var html = await viewer.GetStringAsync(Url);

        var row = Row(html, host.Id);
        Assert.Contains("data-serves=\"true\"", row);
        Assert.Contains("0 / 20", row);
        Assert.Contains("10.1.2.3", row);
        Assert.Contains("3 h ago", row);
        Assert.Contains("builds only", Row(html, builder.Id));
        Assert.Contains("never", Row(html, builder.Id));
        Assert.DoesNotContain("?hosting=", html);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"{Url}?hosting={host.Id}")).StatusCode);
        Assert.DoesNotContain("runner-hosting", await viewer.GetStringAsync($"{Url}?hosting={host.Id}"));

        var forged = await ConsoleWorld.PostFormAsync(viewer, $"{Url}?hosting={host.Id}", "runner-hosting",
            new() { ["HostingRunnerId"] = host.Id.ToString(), ["Capacity"] = "0" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("true/20", await StoredAsync(host.Id));
    }

    [Fact]
    public async Task An_admin_turns_hosting_off_and_sets_a_capacity_and_a_bad_one_stays_on_its_field()
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-switch"), DateTime.UtcNow);
        var admin = await world.ConsoleAsync("admin");
        var formUrl = $"{Url}?hosting={runner.Id}";
        Assert.Contains($"href=\"app/runners?hosting={runner.Id}#hosting\"", await admin.GetStringAsync(Url));
        var form = await admin.GetStringAsync(formUrl);
        Assert.Contains("checked", ConsoleWorld.FieldBlock(form, "serves_instances"));
        Assert.Contains("value=\"20\"", ConsoleWorld.FieldBlock(form, "instance_capacity"));

        var refused = await ConsoleWorld.PostFormAsync(admin, formUrl, "runner-hosting", new() { ["HostingRunnerId"] = runner.Id.ToString(), ["Capacity"] = "1001" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("instance_capacity must be between 0 and 1000.", ConsoleWorld.FieldBlock(await refused.Content.ReadAsStringAsync(), "instance_capacity"));
        Assert.Equal("true/20", await StoredAsync(runner.Id));

        // Unticked: the box is not posted at all.
        var saved = await ConsoleWorld.PostFormAsync(admin, formUrl, "runner-hosting", new() { ["HostingRunnerId"] = runner.Id.ToString(), ["Capacity"] = "4" });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal($"{Url}?hosted={runner.Id}", saved.Headers.Location?.PathAndQuery);
        Assert.Equal("false/4", await StoredAsync(runner.Id));
        Assert.Contains("runs builds only: no new instance goes there.", await admin.GetStringAsync($"{Url}?hosted={runner.Id}"));
        var audit = Assert.Single(await world.AuditAsync(runner.Id));
        Assert.Equal(("runner.instance_hosting", world.Users["admin"]), (audit.Action, audit.ActorUserId!.Value));
    }

    [Fact]
    public async Task A_shared_runner_s_hosting_is_offered_to_system_administrators_only()
    {
        var shared = await world.InsertRunnerAsync(null, world.Unique("page-shared-host"), DateTime.UtcNow);
        var admin = await world.ConsoleAsync("admin");
        Assert.DoesNotContain("id=\"hosting\"", await admin.GetStringAsync($"{Url}?hosting={shared.Id}"));
        var forged = await ConsoleWorld.PostFormAsync(admin, $"{Url}?hosting={shared.Id}", "runner-hosting",
            new() { ["HostingRunnerId"] = shared.Id.ToString(), ["Capacity"] = "0" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("true/20", await StoredAsync(shared.Id));

        var sysadmin = await world.ConsoleAsync("sysadmin");
        var saved = await ConsoleWorld.PostFormAsync(sysadmin, $"{Url}?hosting={shared.Id}", "runner-hosting",
            new() { ["HostingRunnerId"] = shared.Id.ToString(), ["Serves"] = "on", ["Capacity"] = "7" });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("true/7", await StoredAsync(shared.Id));
    }
}
