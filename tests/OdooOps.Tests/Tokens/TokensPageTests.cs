using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Auth;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Tokens;

/// <summary>
/// /app/tokens over HTTP (in-memory server): the user's own tokens only, a new token shown once and working,
/// validation, revocation, antiforgery and the audit rows. Each test signs in a user of its own, so no test sees
/// another's tokens (and sign-ins stay under the per-address throttle).
/// </summary>
public sealed partial class TokensPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    const string Url = "/app/tokens";

    [Fact]
    public async Task The_list_shows_only_the_users_own_tokens_with_scope_expiry_last_use_and_status()
    {
        var me = await SignedInUserAsync();
        var other = await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("other")}@a.test", world.OrgA, "owner");
        var active = await InsertTokenAsync(me.Id, "<b>deploy bot</b>", "write", expiresAt: null, lastUsedAt: DateTime.UtcNow.AddMinutes(-5));
        var expired = await InsertTokenAsync(me.Id, "old laptop", "read", expiresAt: DateTime.UtcNow.AddDays(-1));
        var revoked = await InsertTokenAsync(me.Id, "leaked one", "read", expiresAt: DateTime.UtcNow.AddDays(20), revoked: true);
        await InsertTokenAsync(other, "secret of someone else", "write");

        var html = await me.Client.GetStringAsync(Url);

        Assert.DoesNotContain("secret of someone else", html);
        var activeRow = Row(html, active.Id);
        Assert.Contains("&lt;b&gt;deploy bot&lt;/b&gt;", activeRow);
        Assert.DoesNotContain("<b>deploy bot", html);
        Assert.Contains($"{active.Token[..12]}…", WebUtility.HtmlDecode(activeRow));
        Assert.Contains("data-scope=\"write\"", activeRow);
        Assert.Contains("data-status=\"active\"", activeRow);
        Assert.Contains("<span class=\"muted\">never</span>", activeRow);
        Assert.Contains("5 min ago", activeRow);
        Assert.Contains($"value=\"{active.Id}\"", activeRow);
        Assert.Contains("data-scope=\"read\"", Row(html, expired.Id));
        Assert.Contains(">expired</span>", Row(html, expired.Id));
        Assert.DoesNotContain("Revoke", Row(html, expired.Id));
        Assert.Contains(">revoked</span>", Row(html, revoked.Id));
        Assert.DoesNotContain("Revoke", Row(html, revoked.Id));
        Assert.Matches("in (19|20) days", Row(html, revoked.Id));
        // Newest first: the token inserted last is listed first.
        Assert.True(html.IndexOf(revoked.Id.ToString()) < html.IndexOf(active.Id.ToString()));
        Assert.Contains("href=\"app/tokens\"", html); // the section is a link in the sidebar now
    }

    [Fact]
    public async Task Without_tokens_the_page_explains_what_they_are_for()
    {
        var me = await SignedInUserAsync();
        var html = await me.Client.GetStringAsync(Url);
        Assert.Contains("No tokens yet", html);
        Assert.Contains("odooops login --token &lt;token&gt;", html);
        Assert.Contains("Authorization: Bearer &lt;token&gt;", html);
        Assert.DoesNotContain("<table", html);
        Assert.Contains("name=\"Input.Name\"", html);
        Assert.Equal(HttpStatusCode.Redirect, (await world.Anonymous().GetAsync(Url)).StatusCode);
    }

    [Theory]
    [InlineData("write", "90", 90)]
    [InlineData("read", "never", null)]
    public async Task A_new_token_is_shown_once_stored_hashed_and_works_as_a_bearer_token(string scope, string expiry, int? days)
    {
        var me = await SignedInUserAsync();
        var name = world.Unique("laptop");

        var response = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken(name, scope, expiry));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var html = await response.Content.ReadAsStringAsync();
        var token = Assert.Single(FullTokens().Matches(html)).Value;
        Assert.Single(Regex.Matches(html, Regex.Escape(token)));
        Assert.Contains("This is the only time the token is shown", html);
        Assert.DoesNotContain($"value=\"{name}\"", html); // the form starts over

        var row = await TokenRowAsync(token);
        Assert.Equal((me.Id, name, scope, days), (row.UserId, row.Name, row.Scope, row.Days));
        Assert.Contains(name, Row(html, row.Id)); // listed in the same answer

        var again = await me.Client.GetStringAsync(Url);
        Assert.DoesNotContain(token, again);
        Assert.Empty(FullTokens().Matches(again));
        Assert.Contains(name, again);

        var asBearer = await world.Anonymous().WithToken(token).GetAsync("/api/ops/me");
        Assert.Equal(HttpStatusCode.OK, asBearer.StatusCode);
        Assert.Contains(me.Email, await asBearer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Invalid_fields_get_their_messages_next_to_them_and_nothing_is_created()
    {
        var me = await SignedInUserAsync();

        var response = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken("", "admin", "12"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Name is required.", ConsoleWorld.FieldBlock(html, "name"));
        Assert.Contains("aria-invalid=\"true\"", ConsoleWorld.FieldBlock(html, "name"));
        Assert.Contains("Scope must be one of: read, write.", ConsoleWorld.FieldBlock(html, "scope"));
        Assert.Contains("Expiry must be one of: 7, 30, 90, 365 days, or never.", ConsoleWorld.FieldBlock(html, "expires_in_days"));
        Assert.DoesNotContain("Scope must", ConsoleWorld.FieldBlock(html, "name"));

        var tooLong = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken(new string('x', 101), "read", "30"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
        Assert.Contains("Name must be at most 100 characters.", ConsoleWorld.FieldBlock(await tooLong.Content.ReadAsStringAsync(), "name"));
        Assert.Equal(0L, await TokenCountAsync(me.Id));
    }

    [Fact]
    public async Task Revoking_stops_the_token_and_the_row_says_revoked()
    {
        var me = await SignedInUserAsync();
        var created = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken("to revoke", "write", "7"));
        var token = FullTokens().Match(await created.Content.ReadAsStringAsync()).Value;
        var row = await TokenRowAsync(token);
        Assert.Equal(HttpStatusCode.OK, (await world.Anonymous().WithToken(token).GetAsync("/api/ops/me")).StatusCode);

        var response = await ConsoleWorld.PostFormAsync(me.Client, Url, "revoke-token", new() { ["RevokeId"] = row.Id.ToString() });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/app/tokens?revoked={row.Id}", response.Headers.Location?.PathAndQuery);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Anonymous().WithToken(token).GetAsync("/api/ops/me")).StatusCode);
        var html = await me.Client.GetStringAsync(response.Headers.Location);
        Assert.Contains(">revoked</span>", Row(html, row.Id));
        Assert.DoesNotContain("Revoke", Row(html, row.Id));
        Assert.Contains("“to revoke” is revoked", WebUtility.HtmlDecode(html));

        // A second post (a reload, a double click) finds it revoked already: no second audit row.
        await ConsoleWorld.PostFormAsync(me.Client, Url, "revoke-token", new() { ["RevokeId"] = row.Id.ToString() });
        Assert.Equal(1L, await world.ScalarAsync<long>(
            "select count(*) from ops.audit_log where action = 'token.revoke' and target_id = @id", new { id = row.Id.ToString() }));
    }

    [Fact]
    public async Task Revoking_another_users_token_changes_nothing_and_says_so()
    {
        var me = await SignedInUserAsync();
        await InsertTokenAsync(me.Id, "mine", "read"); // so the page has its revoke form
        var other = await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("victim")}@a.test", world.OrgA, "owner");
        var theirs = await InsertTokenAsync(other, "theirs", "write");

        var response = await ConsoleWorld.PostFormAsync(me.Client, Url, "revoke-token", new() { ["RevokeId"] = theirs.Id.ToString() });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("There is no such token among yours; nothing was revoked.", html);
        Assert.DoesNotContain("theirs", html);
        Assert.Null(await world.ScalarAsync<DateTime?>("select revoked_at from ops.api_tokens where id = @Id", new { theirs.Id }));
        Assert.Equal(HttpStatusCode.OK, (await world.Anonymous().WithToken(theirs.Token).GetAsync("/api/ops/me")).StatusCode);
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where target_id = @id", new { id = theirs.Id.ToString() }));
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_rejected_and_creates_nothing()
    {
        var me = await SignedInUserAsync();
        var response = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken("forged", "write", "30"), withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(FullTokens().Matches(await response.Content.ReadAsStringAsync()));
        Assert.Equal(0L, await TokenCountAsync(me.Id));
    }

    [Fact]
    public async Task Create_and_revoke_are_audited_in_the_current_org_without_the_token_or_its_hash()
    {
        var me = await SignedInUserAsync();
        var created = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken("audited", "write", "30"));
        var token = FullTokens().Match(await created.Content.ReadAsStringAsync()).Value;
        var row = await TokenRowAsync(token);
        await ConsoleWorld.PostFormAsync(me.Client, Url, "revoke-token", new() { ["RevokeId"] = row.Id.ToString() });

        var audit = await AuditRowsAsync(row.Id);
        Assert.Equal(new[] { "token.create", "token.revoke" }, audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(((Guid?)world.OrgA, (Guid?)me.Id, "token", "user"), (a.OrgId, a.ActorUserId, a.TargetType, a.Actor)));
        Assert.Contains("\"name\": \"audited\"", audit[0].Json);
        Assert.Contains("\"revoked_at\": null", audit[1].Json); // before
        var hash = AccessTokens.Hash(token);
        Assert.All(audit, a =>
        {
            Assert.DoesNotContain(token, a.Json);
            Assert.DoesNotContain(token[12..], a.Json);
            Assert.DoesNotContain(Convert.ToHexString(hash), a.Json, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(hash), a.Json);
            Assert.DoesNotContain("hash", a.Json);
        });
    }

    [Fact]
    public async Task A_user_without_an_organisation_gets_tokens_but_no_audit_row()
    {
        var me = await SignedInUserAsync(withOrg: false);
        var created = await ConsoleWorld.PostFormAsync(me.Client, Url, "new-token", NewToken("no org", "read", "7"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var row = await TokenRowAsync(FullTokens().Match(await created.Content.ReadAsStringAsync()).Value);

        var revoked = await ConsoleWorld.PostFormAsync(me.Client, Url, "revoke-token", new() { ["RevokeId"] = row.Id.ToString() });

        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.NotNull(await world.ScalarAsync<DateTime?>("select revoked_at from ops.api_tokens where id = @Id", new { row.Id }));
        Assert.Empty(await AuditRowsAsync(row.Id));
    }

    [Fact]
    public async Task A_read_scoped_token_cannot_mint_or_revoke_tokens_through_the_console()
    {
        // Console pages know sessions only: a bearer token is ignored there, so a read-scoped token cannot use a form.
        var me = await SignedInUserAsync();
        var readOnly = await InsertTokenAsync(me.Id, "read only", "read");
        var client = world.Anonymous().WithToken(readOnly.Token);

        var page = await client.GetAsync(Url);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location?.AbsolutePath);
        var create = await ConsoleWorld.PostFormAsync(client, Url, "new-token", NewToken("escalated", "write", "never"), withToken: false);
        var revoke = await ConsoleWorld.PostFormAsync(client, Url, "revoke-token", new() { ["RevokeId"] = readOnly.Id.ToString() }, withToken: false);
        Assert.False(create.IsSuccessStatusCode);
        Assert.Empty(FullTokens().Matches(await create.Content.ReadAsStringAsync()));
        Assert.False(revoke.IsSuccessStatusCode);
        Assert.Equal(1L, await TokenCountAsync(me.Id));
        Assert.Null(await world.ScalarAsync<DateTime?>("select revoked_at from ops.api_tokens where id = @Id", new { readOnly.Id }));
    }
}
