using System.Net;
using System.Text.Json;
using OdooOps.Server;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Server;

/// <summary>
/// Every answer, page or API, tells the browser: run our own scripts only and never inside a frame (clickjacking, injected
/// markup), do not sniff types, keep the referrer on the site; and nothing that shows a token once may be cached.
/// </summary>
public sealed class SecurityHeadersTests(ApiWorld world, PostgresCluster cluster) : IClassFixture<ApiWorld>
{
    static void AssertPolicy(HttpResponseMessage response, string csp = SecurityHeaders.ContentSecurityPolicy)
    {
        var what = $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.PathAndQuery} → {(int)response.StatusCode}";
        Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var policy), what);
        Assert.Equal(csp, policy!.Single());
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.StartsWith("default-src 'self';", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), what); // plain http: HSTS means nothing there
    }

    [Theory]
    [InlineData("/login", null, HttpStatusCode.OK)]
    [InlineData("/app/projects", null, HttpStatusCode.Redirect)]
    [InlineData("/no/such/page", null, HttpStatusCode.NotFound)]
    [InlineData("/api/ops/me", null, HttpStatusCode.Unauthorized)]
    [InlineData("/api/ops/projects", "viewer", HttpStatusCode.OK)]
    [InlineData("/openapi/v1.json", null, HttpStatusCode.OK)]
    [InlineData("/healthz", null, HttpStatusCode.OK)]
    public async Task Pages_and_api_answers_carry_the_policy_and_are_not_stored(string path, string? actor, HttpStatusCode status)
    {
        var response = await world.Client(actor).GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        AssertPolicy(response);
        Assert.True(response.Headers.CacheControl?.NoStore, path);
    }

    [Theory]
    [InlineData("/app.css")]
    [InlineData("/js/build-log.js")]
    [InlineData("/js/console.js")]
    public async Task Static_assets_may_be_cached_but_are_revalidated(string path)
    {
        var response = await world.Client(null).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertPolicy(response);
        Assert.True(response.Headers.CacheControl?.NoCache, path);
        Assert.False(response.Headers.CacheControl?.NoStore, path);
    }

    [Fact]
    public async Task The_api_reference_runs_its_inline_start_up_but_is_never_framed()
    {
        var response = await world.Factory.CreateClient().GetAsync("/docs/api");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertPolicy(response, SecurityHeaders.DocsContentSecurityPolicy);
    }

    [Fact]
    public async Task Every_answer_that_carries_a_new_token_says_no_store()
    {
        var admin = world.Client("owner");
        var answers = new List<HttpResponseMessage>
        {
            await world.Client(null).PostAsync("/api/ops/auth/token", ApiWorld.Body(new { email = "owner@a.test", password = Accounts.Password })),
            await admin.PostAsync("/api/ops/tokens", ApiWorld.Body(new { name = "ci", scope = "read" })),
            await admin.PostAsync($"/api/ops/projects/{world.A.ProjectId}/ingest-tokens", ApiWorld.Body(new { name = "prod" })),
            await admin.PostAsync($"/api/ops/projects/{world.A.ProjectId}/webhook/rotate", null),
        };
        var registration = await admin.PostAsync($"/api/ops/orgs/{world.A.OrgId}/runner-tokens", ApiWorld.Body(new { }));
        answers.Add(registration);
        var token = JsonDocument.Parse(await registration.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();
        answers.Add(await world.Client(null).PostAsync("/api/runner/v1/register", ApiWorld.Body(new { registration_token = token, name = "r1" })));
        var console = world.Factory.CreateClient(new() { AllowAutoRedirect = false });
        answers.Add(await Accounts.SignInAsync(console, "owner@a.test")); // the new session cookie

        foreach (var answer in answers)
        {
            Assert.True(answer.IsSuccessStatusCode || answer.StatusCode == HttpStatusCode.Redirect, $"{answer.RequestMessage!.RequestUri} → {answer.StatusCode}");
            Assert.True(answer.Headers.CacheControl?.NoStore, $"{answer.RequestMessage!.RequestUri} may be stored");
            AssertPolicy(answer);
        }
    }

    [Fact]
    public async Task An_https_public_url_adds_hsts_and_makes_every_cookie_secure()
    {
        await using var server = await LiveServer.StartAsync(cluster, "hsts", new Dictionary<string, string?> { ["OPS_PUBLIC_URL"] = "https://ops.example.test" });
        var org = await Accounts.CreateOrgAsync(server.Owner, "hsts");
        await Accounts.CreateUserAsync(server.Owner, "h@x.test", org, "viewer");
        // Cookies by hand: a cookie jar keeps Secure cookies away from this test's plain-http loopback.
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(server.Url) };

        var page = await client.GetAsync("/login");
        Assert.Equal(SecurityHeaders.Hsts, page.Headers.GetValues("Strict-Transport-Security").Single());
        var antiforgery = page.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("; secure", antiforgery, StringComparison.OrdinalIgnoreCase);
        var form = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var post = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login", ["__RequestVerificationToken"] = form, ["Input.Email"] = "h@x.test", ["Input.Password"] = Accounts.Password,
            }),
        };
        post.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        var signIn = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var session = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("odooops_session="));
        Assert.Contains("; secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", session, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(SecurityHeaders.Hsts, (await client.GetAsync("/api/ops/me")).Headers.GetValues("Strict-Transport-Security").Single());
    }
}
