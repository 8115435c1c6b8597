using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using OdooOps.Auth;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Server;

/// <summary>
/// Behind a TLS-terminating proxy (here: this test on loopback, playing it). X-Forwarded-For and -Proto are believed
/// from OPS_TRUSTED_PROXIES only: then the sign-in throttle and the audit see the client, not the proxy; from anyone
/// else the headers are ignored, so a stranger cannot pick the address the throttle and the audit see.
/// </summary>
public sealed class TrustedProxyTests(PostgresCluster cluster)
{
    sealed record World(LiveServer Server, HttpClient Http, Guid Project, string Token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Server.DisposeAsync();
        }
    }

    async Task<World> StartAsync(string? trusted)
    {
        var server = await LiveServer.StartAsync(cluster, "proxy",
            trusted is null ? null : new Dictionary<string, string?> { ["OPS_TRUSTED_PROXIES"] = trusted });
        var org = await Accounts.CreateOrgAsync(server.Owner, "proxy");
        var owner = await Accounts.CreateUserAsync(server.Owner, "p@x.test", org, "owner");
        var project = await Accounts.CreateProjectAsync(server.Owner, org, "proxy");
        return new World(server, new HttpClient { BaseAddress = new Uri(server.Url) }, project, await Accounts.CreateTokenAsync(server.Owner, owner));
    }

    static HttpRequestMessage SignIn(string forwardedFor, string password = Accounts.Password)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/ops/auth/token")
        {
            Content = ApiWorld.Body(new { email = "p@x.test", password }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return request;
    }

    static async Task<string?> AuditedAddressAsync(World w)
    {
        await using var conn = await Accounts.OpenAsync(w.Server.Owner);
        return await conn.ExecuteScalarAsync<string?>("select host(ip) from ops.audit_log where action = 'token.create' order by id desc limit 1");
    }

    static async Task<string> WebhookUrlAsync(World w, string proto)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/ops/projects/{w.Project}/webhook");
        request.Headers.Authorization = new("Bearer", w.Token);
        request.Headers.Add("X-Forwarded-Proto", proto);
        var response = await w.Http.SendAsync(request);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("github_url").GetString()!;
    }

    [Fact]
    public async Task From_a_trusted_proxy_the_throttle_and_the_audit_see_the_client()
    {
        await using var w = await StartAsync("10.9.9.9, 127.0.0.0/8, ::1");

        Assert.Equal(HttpStatusCode.Created, (await w.Http.SendAsync(SignIn("198.51.100.7"))).StatusCode);
        Assert.Equal("198.51.100.7", await AuditedAddressAsync(w));
        // What the client itself wrote in front is not believed: the trusted proxy vouches for its own peer only.
        Assert.Equal(HttpStatusCode.Created, (await w.Http.SendAsync(SignIn("6.6.6.6, 198.51.100.8"))).StatusCode);
        Assert.Equal("198.51.100.8", await AuditedAddressAsync(w));

        // One client's burst brakes that client, not everyone behind the proxy.
        for (var i = 0; i < SignInService.MaxAttemptsPerAddressPerMinute - 1; i++)
            await w.Http.SendAsync(SignIn("198.51.100.7", "wrong"));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await w.Http.SendAsync(SignIn("198.51.100.7", "wrong"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await w.Http.SendAsync(SignIn("203.0.113.20"))).StatusCode);

        // The proxy terminated TLS: links and cookies are https ones, and HSTS goes out.
        Assert.StartsWith("https://", await WebhookUrlAsync(w, "https"));
    }

    [Fact]
    public async Task From_anyone_else_forwarded_headers_are_ignored()
    {
        await using var w = await StartAsync(null); // nothing trusted, the default

        Assert.Equal(HttpStatusCode.Created, (await w.Http.SendAsync(SignIn("198.51.100.7"))).StatusCode);
        Assert.Equal("127.0.0.1", await AuditedAddressAsync(w));

        // A new made-up address per attempt does not get round the brake.
        HttpResponseMessage? last = null;
        for (var i = 0; i < SignInService.MaxAttemptsPerAddressPerMinute; i++)
            last = await w.Http.SendAsync(SignIn($"198.51.100.{i + 10}", "wrong"));
        Assert.Equal(HttpStatusCode.TooManyRequests, last!.StatusCode);

        Assert.StartsWith("http://", await WebhookUrlAsync(w, "https"));
    }

    [Theory]
    [InlineData("10.0.0.5", "10.0.0.5/32")]
    [InlineData(" 10.0.0.0/24 , ::1 ", "10.0.0.0/24 ::1/128")]
    [InlineData("", "")]
    public void Trusted_proxies_are_addresses_and_networks(string raw, string networks)
    {
        var settings = OdooOps.Server.WebSettings.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OPS_TRUSTED_PROXIES"] = raw }).Build());
        Assert.Equal(networks, string.Join(" ", settings.TrustedProxies));
    }

    [Fact]
    public void A_bad_trusted_proxy_stops_the_server_with_one_line_naming_the_setting()
    {
        var e = Assert.Throws<InvalidOperationException>(() => OdooOps.Server.WebSettings.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OPS_TRUSTED_PROXIES"] = "10.0.0.1, proxy.local" }).Build()));
        Assert.StartsWith("OPS_TRUSTED_PROXIES: 'proxy.local'", e.Message);
    }
}
