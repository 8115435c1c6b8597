using System.Net;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>Cookie sessions: flags, sign-out through an antiforgery-protected form, open-redirect safety, throttling.</summary>
public sealed class SessionTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Session_cookie_is_http_only_and_same_site_and_sign_out_ends_it()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var org = await Accounts.CreateOrgAsync(factory.Owner, "sess");
        await Accounts.CreateUserAsync(factory.Owner, "s@x.test", org, "viewer");
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });

        var signIn = await Accounts.SignInAsync(client, "s@x.test");
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("odooops_session="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("/app/projects", signIn.Headers.Location?.AbsolutePath);
        Assert.Equal("localhost", signIn.Headers.Location?.Host);

        // Sign-out without the antiforgery token is refused.
        var forged = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "logout-bar" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/ops/me")).StatusCode);

        var page = await client.GetStringAsync("/logout");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var signOut = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "logout-bar",
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/ops/me")).StatusCode);
    }

    [Theory]
    [InlineData("https://evil.example/phish")]
    [InlineData("//evil.example/phish")]
    public async Task Return_url_never_leaves_the_site(string returnUrl)
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var org = await Accounts.CreateOrgAsync(factory.Owner, "redir");
        await Accounts.CreateUserAsync(factory.Owner, "r@x.test", org, "viewer");
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        var form = await client.GetStringAsync($"/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
        var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var response = await client.PostAsync($"/login?returnUrl={Uri.EscapeDataString(returnUrl)}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["__RequestVerificationToken"] = token, ["Input.Email"] = "r@x.test", ["Input.Password"] = Accounts.Password,
        }));
        Assert.Equal("localhost", response.Headers.Location?.Host);
        Assert.Equal("/app/projects", response.Headers.Location?.AbsolutePath);
    }

    [Fact]
    public async Task Wrong_password_shows_an_error_and_sets_no_cookie()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var org = await Accounts.CreateOrgAsync(factory.Owner, "wrong");
        await Accounts.CreateUserAsync(factory.Owner, "w@x.test", org, "viewer");
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        var response = await Accounts.SignInAsync(client, "w@x.test", "not it");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Wrong email or password.", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("odooops_session=")));
    }

    [Fact]
    public async Task Too_many_attempts_from_one_address_are_throttled()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var client = factory.CreateClient();
        HttpResponseMessage? last = null;
        for (var i = 0; i <= OdooOps.Auth.SignInService.MaxAttemptsPerAddressPerMinute; i++)
            last = await client.PostAsync("/api/ops/auth/token", Api.ApiWorld.Body(new { email = $"nobody{i}@x.test", password = "x" }));
        Assert.Equal(HttpStatusCode.TooManyRequests, last!.StatusCode);
        Assert.True(last.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Console_pages_ignore_bearer_tokens()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster);
        var org = await Accounts.CreateOrgAsync(factory.Owner, "bearer");
        var user = await Accounts.CreateUserAsync(factory.Owner, "b@x.test", org, "owner");
        var client = factory.CreateClient(new() { AllowAutoRedirect = false }).WithToken(await Accounts.CreateTokenAsync(factory.Owner, user, scope: "read"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/ops/projects")).StatusCode);
        var page = await client.GetAsync("/app/projects");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location?.AbsolutePath);
    }
}
