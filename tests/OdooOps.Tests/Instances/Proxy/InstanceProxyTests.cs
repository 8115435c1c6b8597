using System.Net;
using System.Net.WebSockets;
using System.Text;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances.Proxy;

/// <summary>
/// serve's instance proxy, end to end: a real serve port, real upstream servers as the instances, rows in a real
/// database. An instance's name reaches that instance only, whatever the path, with the forwarded headers Odoo's
/// --proxy-mode reads; every other case answers a page of its own.
/// </summary>
public sealed class InstanceProxyTests(PostgresCluster cluster)
{
    const string HostA = "main.erp-a.localhost";
    const string HostB = "main.erp-b.localhost";

    [Fact]
    public async Task An_instance_name_reaches_its_instance_with_what_odoo_needs_to_know()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);

        var echo = await w.EchoAsync(HostA, "/web/login?redirect=%2Fodoo");
        Assert.Equal("a", echo.GetProperty("upstream").GetString());
        Assert.Equal("/web/login", echo.GetProperty("path").GetString());
        Assert.Equal("?redirect=%2Fodoo", echo.GetProperty("query").GetString());
        // Odoo builds its links and picks its database from the name asked for, and reads the client from --proxy-mode's headers.
        Assert.Equal(HostA, echo.GetProperty("host").GetString());
        Assert.Equal(HostA, echo.GetProperty("x_forwarded_host").GetString());
        Assert.Equal("127.0.0.1", echo.GetProperty("x_forwarded_for").GetString());
        Assert.Equal("http", echo.GetProperty("x_forwarded_proto").GetString());
        Assert.Equal("http", echo.GetProperty("port").GetString());
        // Names are case-insensitive and may end with a dot.
        Assert.Equal("a", (await w.EchoAsync("MAIN.Erp-A.localhost.")).GetProperty("upstream").GetString());
    }

    [Fact]
    public async Task One_tenants_names_never_reach_the_other_tenants_instance()
    {
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_PUBLIC_URL"] = "http://ops.example.test" });
        await w.SqlAsync("update ops.instance_domains set verified_at = now()"); // erp-a.example.com (A's), erp-b.example.com (B's)

        // Same project slug and branch names in both organisations: only the host labels and domains tell them apart.
        Assert.Equal("a", (await w.EchoAsync(HostA)).GetProperty("upstream").GetString());
        Assert.Equal("b", (await w.EchoAsync(HostB)).GetProperty("upstream").GetString());
        Assert.Equal("a", (await w.EchoAsync("erp-a.example.com")).GetProperty("upstream").GetString());
        Assert.Equal("b", (await w.EchoAsync("erp-b.example.com")).GetProperty("upstream").GetString());

        // Names that end like, or contain, another tenant's are not theirs: no suffix or prefix matching.
        foreach (var host in new[] { "x.main.erp-b.localhost", "main.erp-b.localhost.erp-a.example.com", "www.erp-b.example.com",
                     "erp-b.example.com.evil.test", "erp-b.localhost", "main-erp-b.localhost" })
        {
            var response = await w.GetAsync(host);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{host}: {(int)response.StatusCode}");
            Assert.False(response.Headers.Contains("X-Upstream"), host);
        }

        // B's instance moves: B's name follows it, A's does not.
        await w.SqlAsync("update ops.instances set http_port = @port where branch_id = @branch", new { port = w.UpA.HttpPort, branch = w.Tenants.B.ProductionBranchId });
        await WaitForAsync(async () => (await w.EchoAsync(HostB)).GetProperty("upstream").GetString() == "a", "B's name follows B's row");
        Assert.Equal("a", (await w.EchoAsync(HostA)).GetProperty("upstream").GetString());
    }

    [Fact]
    public async Task Names_nobody_owns_answer_a_404_page_and_the_console_keeps_its_own_names()
    {
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_PUBLIC_URL"] = "http://ops.example.test" });

        foreach (var host in new[] { "nope.erp-a.localhost", "main.nope.localhost", "shop.unknown.test", "erp-a.example.com" /* not verified */ })
        {
            var response = await w.GetAsync(host);
            var page = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{host}: {(int)response.StatusCode}");
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("No instance here", page);
        }
        Assert.Contains("not verified", await (await w.GetAsync("erp-a.example.com")).Content.ReadAsStringAsync());

        // The console: its public name, loopback addresses, localhost.
        foreach (var host in new[] { "ops.example.test", "127.0.0.1", "localhost" })
        {
            var response = await w.GetAsync(host, "/healthz");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{host}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Without_a_public_url_other_names_are_the_consoles_unless_a_branch_owns_them()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        Assert.Equal(HttpStatusCode.OK, (await w.GetAsync("my-laptop.lan", "/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await w.GetAsync("erp-a.example.com", "/healthz")).StatusCode); // owned, not verified
        await w.SqlAsync("update ops.instance_domains set verified_at = now()");
        Assert.Equal("/healthz", (await w.EchoAsync("erp-a.example.com", "/healthz")).GetProperty("path").GetString());
    }

    [Theory]
    [InlineData("starting", 503, true)]
    [InlineData("stopping", 503, true)]
    [InlineData("unhealthy", 503, true)]
    [InlineData("stopped", 503, false)]
    [InlineData("failed", 502, false)]
    [InlineData("unknown", 502, false)]
    public async Task An_instance_that_is_not_running_answers_a_page_with_its_state(string state, int status, bool retry)
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        await w.SqlAsync("update ops.instances set state = @state, reason = 'health check http://127.0.0.1:8069/web/health failed; 10.1.2.3:8072 refused' where branch_id = @branch",
            new { state, branch = w.Tenants.A.ProductionBranchId });

        var response = await w.GetAsync(HostA);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(retry, response.Headers.RetryAfter is not null);
        Assert.Contains($"data-state=\"{state}\"", page);
        Assert.Contains("health check", page); // the reason is shown…
        Assert.DoesNotContain("127.0.0.1", page); // …without the addresses behind the proxy
        Assert.DoesNotContain("10.1.2.3", page);
        Assert.DoesNotContain("8069", page);
        Assert.DoesNotContain(w.UpA.HttpPort.ToString(), page);
        Assert.False(response.Headers.Contains("X-Upstream"));
    }

    [Fact]
    public async Task A_running_instance_that_does_not_answer_is_a_502_page()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        await w.SqlAsync("update ops.instances set http_port = @port where branch_id = @branch", new { port = ProxyWorld.FreePort(), branch = w.Tenants.A.ProductionBranchId });

        var response = await w.GetAsync(HostA);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("did not answer", await response.Content.ReadAsStringAsync());
        Assert.Equal("b", (await w.EchoAsync(HostB)).GetProperty("upstream").GetString());
    }

    [Fact]
    public async Task Odoos_websocket_goes_through_to_its_gevent_port()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        using var socket = new ClientWebSocket();
        var port = w.BaseUri.Port;
        // The browser's way: ws://main.erp-a.localhost:<port>/websocket, with *.localhost resolving to loopback.
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await s.ConnectAsync(IPAddress.Loopback, port, ct);
                return new System.Net.Sockets.NetworkStream(s, ownsSocket: true);
            },
        });

        // Without a gevent port (workers = 0) Odoo serves its websocket on the HTTP port.
        Assert.Equal("a/http: hello", await EchoOverSocketAsync(invoker, $"ws://{HostA}:{port}/websocket", "hello"));

        await w.SqlAsync("update ops.instances set gevent_port = @port where branch_id = @branch", new { port = w.UpA.GeventPort, branch = w.Tenants.A.ProductionBranchId });
        await WaitForAsync(async () => (await w.EchoAsync(HostA, "/longpolling/poll")).GetProperty("port").GetString() == "gevent", "long polling on the gevent port");
        Assert.Equal("a/gevent: bonjour", await EchoOverSocketAsync(invoker, $"ws://{HostA}:{port}/websocket", "bonjour"));
        Assert.Equal("http", (await w.EchoAsync(HostA, "/web/login")).GetProperty("port").GetString());
    }

    static async Task<string> EchoOverSocketAsync(HttpMessageInvoker invoker, string url, string message)
    {
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await socket.ConnectAsync(new Uri(url), invoker, timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    [Fact]
    public async Task Under_an_instance_name_app_and_api_are_the_instances_never_odooops()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        foreach (var path in new[] { "/app/projects", "/api/ops/projects", "/login", "/healthz", "/metrics", "/openapi/v1.json", "/api/runner/v1/jobs/next" })
        {
            var echo = await w.EchoAsync(HostA, path);
            Assert.Equal(path, echo.GetProperty("path").GetString());
        }
        // A console cookie sent to an instance's name is the instance's business: it is passed on, and OdooOps never reads it there.
        var withCookie = await w.EchoAsync(HostA, "/api/ops/projects", r => r.Headers.Add("Cookie", "odooops_session=stolen"));
        Assert.Equal("a", withCookie.GetProperty("upstream").GetString());
    }

    [Fact]
    public async Task The_consoles_headers_stay_off_instance_answers_and_odoos_own_come_through()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        var response = await w.GetAsync(HostA);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
        Assert.False(response.Headers.Contains("X-Frame-Options"));
        Assert.Equal("a", response.Headers.GetValues("X-Upstream").Single());
        Assert.StartsWith("session_id=a", response.Headers.GetValues("Set-Cookie").Single());

        var console = await w.GetAsync("127.0.0.1", "/healthz");
        Assert.True(console.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public async Task A_forwarded_for_made_up_by_a_client_is_replaced()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        var echo = await w.EchoAsync(HostA, "/web/login", r =>
        {
            r.Headers.Add("X-Forwarded-For", "6.6.6.6");
            r.Headers.Add("X-Forwarded-Proto", "https");
            r.Headers.Add("X-Forwarded-Host", "evil.test");
            r.Headers.Add("X-Real-IP", "6.6.6.6");
            r.Headers.Add("Forwarded", "for=6.6.6.6");
        });
        Assert.Equal("127.0.0.1", echo.GetProperty("x_forwarded_for").GetString());
        Assert.Equal("http", echo.GetProperty("x_forwarded_proto").GetString());
        Assert.Equal(HostA, echo.GetProperty("x_forwarded_host").GetString());
        Assert.Equal("", echo.GetProperty("x_real_ip").GetString());
        Assert.Equal("", echo.GetProperty("forwarded").GetString());
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_instance_sees_the_client_and_https()
    {
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_TRUSTED_PROXIES"] = "127.0.0.1" });
        var echo = await w.EchoAsync(HostA, "/web/login", r =>
        {
            r.Headers.Add("X-Forwarded-For", "6.6.6.6, 198.51.100.8"); // the client made up the first; the proxy added the second
            r.Headers.Add("X-Forwarded-Proto", "https");
        });
        Assert.Equal("198.51.100.8", echo.GetProperty("x_forwarded_for").GetString());
        Assert.Equal("https", echo.GetProperty("x_forwarded_proto").GetString());
    }

    [Fact]
    public async Task A_large_upload_passes_without_a_session()
    {
        await using var w = await ProxyWorld.StartAsync(cluster);
        const int size = 40 * 1024 * 1024; // above Kestrel's 30 MB default and far above the console's 16 KiB for strangers
        var request = w.Request(HostA, "/web/binary/upload_attachment", HttpMethod.Post);
        request.Content = new ByteArrayContent(new byte[size]);
        var response = await w.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Contains($"\"body_length\":{size}", text);
    }

    [Fact]
    public async Task A_change_reaches_the_proxy_by_notification_not_by_expiry()
    {
        // Cached routes would live an hour: only the NOTIFY can make the proxy see the change in time.
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_INSTANCES_ROUTE_CACHE_SECONDS"] = "3600" });
        Assert.Equal(HttpStatusCode.OK, (await w.GetAsync(HostA)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await w.GetAsync("erp-a.example.com")).StatusCode);

        await w.SqlAsync("update ops.instances set state = 'stopped', reason = 'stopped by ada' where branch_id = @branch", new { branch = w.Tenants.A.ProductionBranchId });
        await WaitForAsync(async () => (await w.GetAsync(HostA)).StatusCode == HttpStatusCode.ServiceUnavailable, "the stopped instance's page");

        await w.SqlAsync("update ops.instance_domains set verified_at = now() where branch_id = @branch", new { branch = w.Tenants.A.ProductionBranchId });
        await WaitForAsync(async () => (await w.GetAsync("erp-a.example.com")).StatusCode == HttpStatusCode.ServiceUnavailable, "the verified domain");

        await w.SqlAsync("delete from ops.instance_domains where branch_id = @branch", new { branch = w.Tenants.A.ProductionBranchId });
        await WaitForAsync(async () => (await w.GetAsync("erp-a.example.com", "/healthz")).StatusCode == HttpStatusCode.OK, "the removed domain (the console's again)");
    }

    [Fact]
    public async Task The_tls_ask_endpoint_vouches_for_served_names_only_and_answers_the_proxy_only()
    {
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["OPS_PUBLIC_URL"] = "https://ops.example.test", ["OPS_TRUSTED_PROXIES"] = "127.0.0.1",
        });
        async Task<HttpStatusCode> AskAsync(string domain, string? forwardedFor = null)
        {
            var request = w.Request("127.0.0.1", $"/internal/tls-ask?domain={Uri.EscapeDataString(domain)}");
            if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
            return (await w.Http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await AskAsync(HostA));
        Assert.Equal(HttpStatusCode.OK, await AskAsync("ops.example.test"));
        foreach (var name in new[] { "nope.erp-a.localhost", "erp-a.example.com" /* not verified */, "random.test", "localhost", "127.0.0.1", "" })
            Assert.True(await AskAsync(name) == HttpStatusCode.NotFound, name);
        await w.SqlAsync("update ops.instance_domains set verified_at = now()");
        await WaitForAsync(async () => await AskAsync("erp-a.example.com") == HttpStatusCode.OK, "the verified domain vouched for");
        // A client that came through the proxy is not the proxy.
        Assert.Equal(HttpStatusCode.Forbidden, await AskAsync(HostA, forwardedFor: "198.51.100.7"));
    }

    /// <summary>Polls a condition with a generous bound: a loaded machine may take seconds to deliver a notification.</summary>
    internal static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }
}
