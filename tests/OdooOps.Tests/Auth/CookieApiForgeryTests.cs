using System.Net;
using System.Text;
using Dapper;
using OdooOps.Auth;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>
/// Cross-site request forgery on the API: another site makes a signed-in admin's browser POST (text/plain, no
/// preflight) to bodyless writes such as the webhook secret rotation and a build cancel. With a session cookie, a
/// write needs the X-OdooOps-CSRF header and this server's Origin; tokens are not ambient and pass as before.
/// </summary>
public sealed class CookieApiForgeryTests(PostgresCluster cluster) : IAsyncLifetime
{
    OdooOpsFactory _factory = null!;
    Guid _project;
    string _token = null!;

    public async ValueTask InitializeAsync()
    {
        _factory = await OdooOpsFactory.CreateAsync(cluster, "csrf");
        var org = await Accounts.CreateOrgAsync(_factory.Owner, "csrf");
        var owner = await Accounts.CreateUserAsync(_factory.Owner, "owner@csrf.test", org, "owner");
        _token = await Accounts.CreateTokenAsync(_factory.Owner, owner);
        _project = await Accounts.CreateProjectAsync(_factory.Owner, org, "csrf");
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    async Task<HttpClient> BrowserAsync()
    {
        var client = _factory.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(client, "owner@csrf.test")).StatusCode);
        return client;
    }

    async Task<Guid> QueuedBuildAsync()
    {
        await using var conn = await Accounts.OpenAsync(_factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
            select project_id, id, 'queued', 'manual', md5(random()::text) from ops.branches where project_id = @_project and name = 'feature-x'
            returning id
            """, new { _project });
    }

    async Task<(string Status, long Rotations)> StateAsync(Guid build)
    {
        await using var conn = await Accounts.OpenAsync(_factory.Owner);
        return (await conn.ExecuteScalarAsync<string>("select status from ops.builds where id = @build", new { build }) ?? "",
            await conn.ExecuteScalarAsync<long>("select count(*) from ops.audit_log where action = 'webhook.rotate'"));
    }

    /// <summary>What a page on <paramref name="origin"/> can make a browser send: a simple request, text/plain, with its cookies.</summary>
    static HttpRequestMessage Forged(string path, string? origin, bool header = false, string? referer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("x", Encoding.UTF8, "text/plain") };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (referer is not null) request.Headers.Referrer = new Uri(referer);
        if (header) request.Headers.Add(CookieApiForgery.HeaderName, "1");
        return request;
    }

    [Theory]
    [InlineData("https://evil.example", false)] // the plain attack: a form or fetch from another site
    [InlineData("https://evil.example", true)] // even if the header somehow came along
    [InlineData("null", true)] // a sandboxed frame or a data: page
    [InlineData("http://localhost", false)] // our own origin, but no header: a form post from a page we serve
    [InlineData(null, true)] // neither Origin nor Referer
    public async Task A_cookie_write_without_both_proofs_is_refused_and_changes_nothing(string? origin, bool header)
    {
        var browser = await BrowserAsync();
        var build = await QueuedBuildAsync();

        var rotate = await browser.SendAsync(Forged($"/api/ops/projects/{_project}/webhook/rotate", origin, header));
        var cancel = await browser.SendAsync(Forged($"/api/ops/builds/{build}/cancel", origin, header));

        Assert.Equal(HttpStatusCode.Forbidden, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        Assert.Equal("application/problem+json", cancel.Content.Headers.ContentType?.MediaType);
        Assert.Contains("with a session cookie", await cancel.Content.ReadAsStringAsync());
        Assert.Equal(("queued", 0L), await StateAsync(build));
        // The session itself is fine: reads need no proof.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/ops/me")).StatusCode);
    }

    [Fact]
    public async Task Our_own_pages_write_with_the_header_and_their_origin_or_referer()
    {
        var browser = await BrowserAsync();
        var build = await QueuedBuildAsync();

        var rotate = await browser.SendAsync(Forged($"/api/ops/projects/{_project}/webhook/rotate", "http://localhost", header: true));
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var cancel = await browser.SendAsync(Forged($"/api/ops/builds/{build}/cancel", null, header: true, referer: "http://localhost/app/projects/csrf/builds"));
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(("cancelled", 1L), await StateAsync(build));
    }

    [Fact]
    public async Task A_foreign_referer_is_no_proof()
    {
        var browser = await BrowserAsync();
        var build = await QueuedBuildAsync();
        var cancel = await browser.SendAsync(Forged($"/api/ops/builds/{build}/cancel", null, header: true, referer: "https://evil.example/page"));
        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        Assert.Equal("queued", (await StateAsync(build)).Status);
    }

    [Fact]
    public async Task Token_calls_need_neither_header_nor_origin_even_with_a_cookie_alongside()
    {
        var build = await QueuedBuildAsync();
        var cli = _factory.CreateClient(new() { AllowAutoRedirect = false }).WithToken(_token);
        Assert.Equal(HttpStatusCode.OK, (await cli.PostAsync($"/api/ops/projects/{_project}/webhook/rotate", null)).StatusCode);

        // A browser that also holds a session: the bearer token decides who calls, and it was not sent by a page.
        var browser = await BrowserAsync();
        browser.WithToken(_token);
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(Forged($"/api/ops/builds/{build}/cancel", "https://evil.example"))).StatusCode);
        Assert.Equal(("cancelled", 1L), await StateAsync(build));
    }
}
