using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances.Proxy;

/// <summary>
/// serve on a real port with two tenants (<see cref="TwoTenants"/>: same project slug, same branch names) whose
/// production instances are real upstream servers (<see cref="EchoUpstream"/>) on 127.0.0.1: tenant A's project has the
/// host label erp-a, B's erp-b, so main.erp-a.localhost is A's production instance. Requests go to serve's port with
/// the Host header of the name (as a browser resolving *.localhost to loopback sends it).
/// </summary>
public sealed class ProxyWorld : IAsyncDisposable
{
    public LiveServer Server { get; private init; } = null!;
    public TwoTenants Tenants { get; private init; } = null!;
    public EchoUpstream UpA { get; private init; } = null!;
    public EchoUpstream UpB { get; private init; } = null!;
    public HttpClient Http { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false });
    public Uri BaseUri => new(Server.Url);

    public static async Task<ProxyWorld> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var server = await LiveServer.StartAsync(cluster, "proxy", settings, configure);
        await using var owner = await Accounts.OpenAsync(server.Owner);
        var tenants = await TwoTenants.BuildAsync(owner);
        var world = new ProxyWorld
        {
            Server = server, Tenants = tenants, UpA = await EchoUpstream.StartAsync("a"), UpB = await EchoUpstream.StartAsync("b"),
        };
        foreach (var (tenant, up) in new[] { (tenants.A, world.UpA), (tenants.B, world.UpB) })
            await owner.ExecuteAsync("""
                update ops.projects set host_label = 'erp-' || @Key where id = @ProjectId;
                update ops.branches set host_label = case name when 'feature-x' then 'feature-x' else name end where project_id = @ProjectId;
                update ops.runners set instance_address = '127.0.0.1' where id = @RunnerId;
                update ops.instances set http_port = @http, state = 'running' where branch_id = @ProductionBranchId;
                """, new { tenant.Key, tenant.ProjectId, tenant.RunnerId, tenant.ProductionBranchId, http = up.HttpPort });
        return world;
    }

    public async Task SqlAsync(string sql, object? args = null)
    {
        await using var owner = await Accounts.OpenAsync(Server.Owner);
        await owner.ExecuteAsync(sql, args);
    }

    public HttpRequestMessage Request(string host, string path, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(BaseUri, path));
        request.Headers.Host = host;
        return request;
    }

    public Task<HttpResponseMessage> GetAsync(string host, string path = "/web/login") => Http.SendAsync(Request(host, path));

    /// <summary>What the upstream saw (its JSON echo); fails on any other answer.</summary>
    public async Task<JsonElement> EchoAsync(string host, string path = "/web/login", Action<HttpRequestMessage>? tweak = null)
    {
        var request = Request(host, path);
        tweak?.Invoke(request);
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK && response.Headers.Contains("X-Upstream"), $"{host}{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>A loopback port nothing listens on (taken, then let go).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await UpA.DisposeAsync();
        await UpB.DisposeAsync();
        await Server.DisposeAsync();
    }
}
