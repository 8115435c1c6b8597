using System.Net;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The stand-in odoo-bin as a server: its HTTP answers and request log lines, its websocket, its prefork process tree,
/// and the controls that make it crash or hang — real processes, real sockets, the suite's PostgreSQL.
/// </summary>
public sealed class OdooStandInServerTests(PostgresCluster cluster) : IAsyncLifetime
{
    StandInWorld _world = null!;
    readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask InitializeAsync()
    {
        _world = await StandInWorld.CreateAsync(cluster);
        _world.AddModule("shop", "1.0");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _world.DisposeAsync();
    }

    sealed record Server(StandInProcess Process, string Db, int Port, int GeventPort)
    {
        public string Url(string path) => $"http://127.0.0.1:{Port}{path}";
    }

    async Task<Server> StartAsync(string[]? extra = null, Dictionary<string, string>? env = null)
    {
        var (db, port, gevent) = (StandInWorld.NewDatabase(), StandInWorld.FreePort(), StandInWorld.FreePort());
        var process = _world.Start(["-d", db, "--addons-path", _world.Addons, "-D", _world.DataDir, "-i", "shop",
            "-p", port.ToString(), "--gevent-port", gevent.ToString(), "--http-interface", "127.0.0.1", .. extra ?? []], env);
        var server = new Server(process, db, port, gevent);
        await StandInWorld.WaitHealthyAsync(_http, process, port);
        return server;
    }

    static Task<string> RequestLineAsync(Server server, string method, string path) =>
        server.Process.WaitForLineAsync(l => OdooStandIn.RequestLine.Match(l) is { Success: true } m
            && m.Groups["method"].Value == method && m.Groups["path"].Value == path, $"the request line of {method} {path}");

    [Fact]
    public async Task Serves_health_login_redirects_and_the_release_page_with_a_werkzeug_line_per_request()
    {
        var env = _world.Env();
        env["ODOOOPS_BUILD_ID"] = "build-42";
        var server = await StartAsync(["--proxy-mode"], env);

        var health = await _http.GetAsync(server.Url("/web/health"));
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status": "pass"}""", await health.Content.ReadAsStringAsync());
        var root = await _http.GetAsync(server.Url("/"));
        Assert.Equal((HttpStatusCode.SeeOther, "/web"), (root.StatusCode, root.Headers.Location?.OriginalString));
        var web = await _http.GetAsync(server.Url("/web"));
        Assert.Equal((HttpStatusCode.SeeOther, "/web/login"), (web.StatusCode, web.Headers.Location?.OriginalString));
        var login = await _http.GetStringAsync(server.Url("/web/login"));
        Assert.Contains($"Database: <span id=\"database\">{server.Db}</span>", login);
        Assert.Contains("name=\"password\"", login);

        using var request = new HttpRequestMessage(HttpMethod.Get, server.Url("/standin/info"));
        request.Headers.Add("X-Forwarded-Host", "main.shop.example.com");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        var info = JsonDocument.Parse(await (await _http.SendAsync(request)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(server.Db, info.GetProperty("database").GetString());
        Assert.Equal("build-42", info.GetProperty("release").GetString());
        Assert.Equal("19.0", info.GetProperty("version").GetString());
        Assert.Equal(server.Process.Pid, info.GetProperty("pid").GetInt32());
        Assert.Equal(0, info.GetProperty("workers").GetInt32());
        Assert.Equal(_world.DataDir, info.GetProperty("data_dir").GetString());
        Assert.Equal("https://main.shop.example.com", info.GetProperty("base_url").GetString());
        Assert.Equal("19.0.1.0", info.GetProperty("modules").GetProperty("shop").GetString());

        var infoLine = OdooStandIn.RequestLine.Match(await RequestLineAsync(server, "GET", "/standin/info"));
        Assert.Equal((server.Db, "203.0.113.9", "200"), (infoLine.Groups["db"].Value, infoLine.Groups["ip"].Value, infoLine.Groups["status"].Value));
        Assert.True(int.Parse(infoLine.Groups["queries"].Value) >= 2, infoLine.Value);
        Assert.Equal("303", OdooStandIn.RequestLine.Match(await RequestLineAsync(server, "GET", "/web")).Groups["status"].Value);
        Assert.Equal("127.0.0.1", OdooStandIn.RequestLine.Match(await RequestLineAsync(server, "GET", "/web/login")).Groups["ip"].Value);

        await _http.GetAsync(server.Url("/standin/slow?ms=300"));
        var slow = OdooStandIn.RequestLine.Match(await RequestLineAsync(server, "GET", "/standin/slow?ms=300"));
        Assert.True(double.Parse(slow.Groups["remaining"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.3, slow.Value);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(server.Url("/no/such/page"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(server.Url("/standin/log?level=ERROR&msg=disk+full"), null)).StatusCode);
        await server.Process.WaitForLineAsync(l => l.EndsWith($" ERROR {server.Db} odoo.standin: disk full ", StringComparison.Ordinal), "the told line");

        Assert.All(server.Process.Log.Where(l => char.IsAsciiDigit(l[0])), l => Assert.Matches(OdooStandIn.LogLine, l));
        Assert.Contains(server.Process.Log, l => l.EndsWith($" INFO ? odoo.service.server: HTTP service (werkzeug) running on 127.0.0.1:{server.Port} ", StringComparison.Ordinal));
        StandInProcess.Signal(server.Process.Pid, "TERM");
        Assert.Equal(0, await server.Process.WaitForExitAsync());
        Assert.Contains(server.Process.Log, l => l.EndsWith(" odoo.service.server: Initiating shutdown ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_websocket_echoes_on_the_http_port_without_workers()
    {
        var server = await StartAsync();
        Assert.Equal("hello odoo", await StandInWorld.EchoAsync(server.Port, "hello odoo"));
        Assert.Equal("101", OdooStandIn.RequestLine.Match(await RequestLineAsync(server, "GET", "/websocket")).Groups["status"].Value);
        // A plain GET is not an upgrade.
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync(server.Url("/websocket"))).StatusCode);
    }

    [Fact]
    public async Task The_db_filter_turns_away_requests_for_other_databases()
    {
        var server = await StartAsync(["--db-filter", "^%d$"]);

        Assert.Equal(HttpStatusCode.OK, (await GetWithHostAsync(server, "/web/login", $"{server.Db}.localhost")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetWithHostAsync(server, "/web/login", "other.localhost")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetWithHostAsync(server, "/standin/info", "other.localhost")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetWithHostAsync(server, "/web/health", "other.localhost")).StatusCode);
    }

    async Task<HttpResponseMessage> GetWithHostAsync(Server server, string path, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Url(path));
        request.Headers.Host = host;
        return await _http.SendAsync(request);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Crash_ends_the_whole_server_with_exit_code_1(int workers)
    {
        var server = await StartAsync(["--workers", workers.ToString(), "--max-cron-threads", "1"]);
        var children = ProcessProbe.ChildrenOf(server.Process.Pid);

        try { await _http.PostAsync(server.Url("/standin/crash"), null); }
        catch (HttpRequestException) { } // it dies before answering

        Assert.Equal(1, await server.Process.WaitForExitAsync());
        Assert.Contains(server.Process.Log, l => l.Contains(" CRITICAL ", StringComparison.Ordinal) && l.Contains("crashing as told", StringComparison.Ordinal));
        await ProcessProbe.WaitUntilGoneAsync(children, TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Hang_stops_every_answer_while_the_server_stays_alive(int workers)
    {
        var server = await StartAsync(["--workers", workers.ToString()]);

        Assert.Equal(HttpStatusCode.Accepted, (await _http.PostAsync(server.Url("/standin/hang"), null)).StatusCode);

        foreach (var path in new[] { "/web/health", "/web/login", "/web/health" })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _http.GetAsync(server.Url(path), cts.Token));
        }
        Assert.False(server.Process.HasExited);
        Assert.True(ProcessProbe.IsAlive(server.Process.Pid));
    }
}
