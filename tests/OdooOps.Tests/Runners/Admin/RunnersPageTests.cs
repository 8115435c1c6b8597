using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// /app/runners over real HTTP with session cookies: members see the org's and the shared runners with their state;
/// admins create a registration token (shown once, with the command to run, and it works), revoke it, and disable and
/// enable runners through antiforgery-protected forms.
/// </summary>
public sealed partial class RunnersPageTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>
{
    const string Url = "/app/runners";

    [GeneratedRegex("oo_reg_[0-9A-Za-z]{43}")]
    private static partial Regex FullTokens();

    /// <summary>The markup of one table row, found by its data attribute and id.</summary>
    static string Row(string html, string attribute, Guid id) =>
        Regex.Match(html, $"<tr {attribute}=\"{id}\".*?</tr>", RegexOptions.Singleline) is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException($"No row {attribute}={id} in the page.");

    [Fact]
    public async Task Members_see_runners_with_their_state_and_no_admin_controls()
    {
        var online = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-online"), DateTime.UtcNow);
        var offline = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-offline"), DateTime.UtcNow.AddHours(-2));
        var disabled = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-disabled"), DateTime.UtcNow, disabled: true);
        var shared = await world.InsertRunnerAsync(null, world.Unique("page-shared"), DateTime.UtcNow);
        var theirs = await world.InsertRunnerAsync(world.OrgB, world.Unique("page-globex"), DateTime.UtcNow);
        var viewer = await world.ConsoleAsync("viewer");

        var html = await viewer.GetStringAsync(Url);

        Assert.Contains("data-state=\"online\"", Row(html, "data-runner-id", online.Id));
        Assert.Contains(">online</span>", Row(html, "data-runner-id", online.Id));
        Assert.Contains(">offline</span>", Row(html, "data-runner-id", offline.Id));
        Assert.Contains("2 h ago", Row(html, "data-runner-id", offline.Id));
        Assert.Contains(">disabled</span>", Row(html, "data-runner-id", disabled.Id));
        Assert.Contains(">shared</span>", Row(html, "data-runner-id", shared.Id));
        Assert.DoesNotContain(theirs.Id.ToString(), html);
        Assert.DoesNotContain("Disable", html);
        Assert.DoesNotContain("Enable", html);
        Assert.DoesNotContain("new-runner-token", html);
        Assert.Contains("Only owners and admins of Org acme can add, disable or enable runners; you are a viewer.", html);
        Assert.Contains("class=\"nav-item active\" href=\"app/runners\"", html); // a link in the sidebar now
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = world.Url };
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync(Url)).StatusCode);
    }

    [Fact]
    public async Task An_admin_creates_a_token_shown_once_with_the_command_and_it_registers_a_runner()
    {
        var admin = await world.ConsoleAsync("admin");

        var response = await ConsoleWorld.PostFormAsync(admin, Url, "new-runner-token", new() { ["Expiry"] = "168" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        var token = FullTokens().Match(html).Value;
        Assert.Contains($"odooops runner --url {world.Server.Url} --token {token}", html);
        Assert.Contains("This is the only time the token is shown", html);
        var id = await world.ScalarAsync<Guid>("select id from ops.runner_registration_tokens where token_hash = sha256(convert_to(@token, 'UTF8'))", new { token });
        Assert.Contains("data-status=\"unused\"", Row(html, "data-registration-token-id", id)); // listed in the same answer
        Assert.InRange(await world.ScalarAsync<double>("select extract(epoch from expires_at - created_at) / 3600 from ops.runner_registration_tokens where id = @id", new { id }), 167.99, 168.01);

        var registered = await world.RegisterAsync(token, world.Unique("from-console"));

        var again = await admin.GetStringAsync(Url);
        Assert.Empty(FullTokens().Matches(again));
        Assert.Contains(registered.RunnerId.ToString(), again);
        Assert.Contains("data-status=\"used\"", Row(again, "data-registration-token-id", id));
    }

    [Fact]
    public async Task A_bad_expiry_gets_its_message_and_a_post_without_antiforgery_token_is_refused()
    {
        var admin = await world.ConsoleAsync("admin");
        var count = await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens");

        var invalid = await ConsoleWorld.PostFormAsync(admin, Url, "new-runner-token", new() { ["Expiry"] = "9999" });
        var forged = await ConsoleWorld.PostFormAsync(admin, Url, "new-runner-token", new() { ["Expiry"] = "24" }, withToken: false);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Contains("Valid for must be one of: 1 hour, 24 hours, 7 days, 30 days.",
            ConsoleWorld.FieldBlock(await invalid.Content.ReadAsStringAsync(), "expires_in_hours"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Empty(FullTokens().Matches(await forged.Content.ReadAsStringAsync()));
        Assert.Equal(count, await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens"));
    }

    [Fact]
    public async Task An_admin_disables_and_enables_a_runner_and_revokes_a_token()
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("page-toggle"), DateTime.UtcNow);
        var token = await world.CreateTokenAsync();
        var admin = await world.ConsoleAsync("admin");
        Assert.Contains($"name=\"DisableId\" value=\"{runner.Id}\"", Row(await admin.GetStringAsync(Url), "data-runner-id", runner.Id));

        var disabled = await ConsoleWorld.PostFormAsync(admin, Url, "runner-action", new() { ["DisableId"] = runner.Id.ToString() });

        Assert.Equal(HttpStatusCode.Redirect, disabled.StatusCode);
        Assert.Equal($"/app/runners?disabled={runner.Id}", disabled.Headers.Location?.PathAndQuery);
        Assert.NotNull(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", runner));
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync($"{Url}?disabled={runner.Id}"));
        Assert.Contains("is disabled: its token is refused", page);
        Assert.Contains($"name=\"EnableId\" value=\"{runner.Id}\"", Row(page, "data-runner-id", runner.Id));

        var enabled = await ConsoleWorld.PostFormAsync(admin, Url, "runner-action", new() { ["EnableId"] = runner.Id.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, enabled.StatusCode);
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", runner));
        Assert.Equal(["runner.disable", "runner.enable"], (await world.AuditAsync(runner.Id)).Select(a => a.Action));

        var revoked = await ConsoleWorld.PostFormAsync(admin, Url, "revoke-runner-token", new() { ["RevokeTokenId"] = token.Id.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.NotNull(await world.ScalarAsync<DateTime?>("select revoked_at from ops.runner_registration_tokens where id = @Id", token));
        var after = await admin.GetStringAsync($"{Url}?revoked={token.Id}");
        Assert.Contains("data-status=\"revoked\"", Row(after, "data-registration-token-id", token.Id));
        Assert.Contains("registers no more runners", after);
        await Assert.ThrowsAsync<HttpRequestException>(() => world.RegisterAsync(token.Token));
    }

    [Fact]
    public async Task Shared_runners_offer_their_buttons_to_system_administrators_only()
    {
        var shared = await world.InsertRunnerAsync(null, world.Unique("page-shared-admin"), DateTime.UtcNow);
        var admin = await world.ConsoleAsync("admin");
        var sysadmin = await world.ConsoleAsync("sysadmin");

        Assert.DoesNotContain("DisableId", Row(await admin.GetStringAsync(Url), "data-runner-id", shared.Id));
        Assert.Contains("DisableId", Row(await sysadmin.GetStringAsync(Url), "data-runner-id", shared.Id));

        // A forged post by the org admin is refused by the database, and says so.
        var forged = await ConsoleWorld.PostFormAsync(admin, Url, "runner-action", new() { ["DisableId"] = shared.Id.ToString() });
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains("Shared runners are changed by system administrators only.", await forged.Content.ReadAsStringAsync());
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", shared));
    }
}
