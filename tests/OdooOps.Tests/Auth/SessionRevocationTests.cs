using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>
/// A session ends on the server: a copy of the cookie (stolen from a shared machine, a proxy log, a backup) is refused
/// the moment its owner signs out, gets a new password or is deactivated — not when the cookie would have expired.
/// </summary>
public sealed class SessionRevocationTests(PostgresCluster cluster) : IAsyncLifetime
{
    OdooOpsFactory _factory = null!;

    public async ValueTask InitializeAsync()
    {
        _factory = await OdooOpsFactory.CreateAsync(cluster, "sessions");
        var org = await Accounts.CreateOrgAsync(_factory.Owner, "sessions");
        await Accounts.CreateUserAsync(_factory.Owner, "s@x.test", org, "admin");
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>Signs in through the form and answers the session cookie as a thief would copy it.</summary>
    async Task<(HttpClient Browser, string Cookie)> SignInAsync()
    {
        var browser = _factory.CreateClient(new() { AllowAutoRedirect = false });
        var response = await Accounts.SignInAsync(browser, "s@x.test");
        return (browser, response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("odooops_session=")).Split(';')[0]);
    }

    async Task<HttpStatusCode> ReplayAsync(string cookie, string path = "/api/ops/me")
    {
        var thief = _factory.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return (await thief.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task A_copied_cookie_is_refused_once_its_session_signed_out()
    {
        var (browser, cookie) = await SignInAsync();
        var (_, other) = await SignInAsync(); // the same person on another machine
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(cookie));

        var page = await browser.GetStringAsync("/logout");
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var signOut = await browser.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "logout-bar", ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync(cookie));
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(cookie, "/app/projects")); // the console sends it to /login
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(other)); // signing out here does not sign out there
    }

    [Fact]
    public async Task A_new_password_ends_every_session_of_the_user()
    {
        var (_, first) = await SignInAsync();
        var (_, second) = await SignInAsync();
        await using (var conn = await Accounts.OpenAsync(_factory.Owner))
        await using (var tx = await conn.BeginTransactionAsync())
        {
            // What `odooops user set-password` does.
            var account = (await UserAccounts.FindAsync(conn, tx, "s@x.test"))!;
            await UserAccounts.SetPasswordAsync(conn, tx, Actor.System, account, "a-brand-new-password");
            await tx.CommitAsync();
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync(first));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync(second));
    }

    [Fact]
    public async Task Deactivating_a_user_ends_their_sessions_at_once()
    {
        var (_, cookie) = await SignInAsync();
        await using (var conn = await Accounts.OpenAsync(_factory.Owner))
            await conn.ExecuteAsync("update registry.users set is_active = false where email = 's@x.test'");
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync(cookie));
    }

    [Fact]
    public async Task A_session_nobody_ended_goes_on_working()
    {
        var (_, cookie) = await SignInAsync();
        await using (var conn = await Accounts.OpenAsync(_factory.Owner))
            await conn.ExecuteAsync("update registry.users set display_name = 'Renamed' where email = 's@x.test'");
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(cookie));
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(cookie));
    }
}
