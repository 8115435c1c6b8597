using System.Net.Http.Json;
using Dapper;
using OdooOps.Database;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Instances;

/// <summary>
/// A server, a repository of Odoo addons and a runner that hosts instances for real: sandboxed stand-in Odoo servers
/// (tests/odoo-standin/odoo-bin) on databases of the suite's cluster, administered by the embedded default's Odoo role
/// (the same code `serve` runs). Timings are short (health every 200 ms, samples every second) so tests do not wait.
/// </summary>
public sealed class InstanceWorld : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    Task _runner = Task.CompletedTask;

    InstanceWorld(RunnerWorld world, string odooBin, string odooDb) => (World, OdooBin, OdooDb) = (world, odooBin, odooDb);

    public RunnerWorld World { get; }

    /// <summary>What the runner logged: shown when a wait runs out.</summary>
    public LineLogger RunnerLog { get; } = new();
    public string OdooBin { get; }

    /// <summary>The Odoo admin connection (OPS_ODOO_DB) the runner uses.</summary>
    public string OdooDb { get; }

    public static async Task<InstanceWorld> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? settings = null)
    {
        var world = await RunnerWorld.StartAsync(cluster, settings);
        var odooBin = OdooStandIn.Install(world.WorkDir);
        // One password file per cluster: every class's runner derives the same project role passwords from it.
        var odooDb = await EmbeddedOdooRole.EnsureAsync(cluster.Server, cluster.Server.DataDir, CancellationToken.None);
        var instance = new InstanceWorld(world, odooBin, odooDb);
        await world.Repo.CommitFilesAsync("an addon", Manifest("sale_extra", "19.0.1.0.0"));
        return instance;
    }

    public static (string, string) Manifest(string module, string version) =>
        ($"addons/{module}/__manifest__.py", $"{{'name': '{module}', 'version': '{version}', 'depends': ['base'], 'installable': True}}");

    public InstanceHosting Hosting(Func<InstanceHosting, InstanceHosting>? adjust = null)
    {
        var hosting = InstanceHosting.From(_ => null) with
        {
            Enabled = true, Database = OdooDatabaseServer.From(OdooDb), HealthInterval = TimeSpan.FromMilliseconds(200), HealthTimeout = TimeSpan.FromSeconds(2),
            MetricsInterval = TimeSpan.FromSeconds(1), FirstBackoff = TimeSpan.FromMilliseconds(200), StopGrace = TimeSpan.FromSeconds(5),
            SyncInterval = TimeSpan.FromMilliseconds(300), StartTimeout = TimeSpan.FromSeconds(60),
        };
        return adjust is null ? hosting : adjust(hosting);
    }

    public async Task StartRunnerAsync(Func<InstanceHosting, InstanceHosting>? adjust = null, string name = "host-1")
    {
        _runner = await World.StartRunnerAsync(_stop.Token, name: name, odooBin: OdooBin, instances: Hosting(adjust),
            killGrace: TimeSpan.FromSeconds(5), log: RunnerLog, shared: true); // the operator's: reached over loopback
    }

    public async Task StopRunnerAsync()
    {
        await _stop.CancelAsync();
        await _runner;
    }

    public sealed record InstanceRow(Guid Id, Guid BuildId, string Stage, string State, string? Reason, string Desired, bool IsCurrent,
        int? HttpPort, int Restarts, DateTime? RetiredAt, DateTime? CleanedAt, string DatabaseName, long? DowntimeMs, DateTime? StartedAt);

    public async Task<IReadOnlyList<InstanceRow>> InstancesAsync()
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return [.. await conn.QueryAsync<InstanceRow>("""
            select id, build_id, stage, state, reason, desired, is_current, http_port, restarts, retired_at, cleaned_at, database_name, downtime_ms, started_at
              from ops.instances where project_id = @ProjectId order by created_at
            """, new { World.ProjectId })];
    }

    /// <summary>Waits until an instance of the build matches; its row.</summary>
    public async Task<InstanceRow> WaitForInstanceAsync(Guid buildId, Func<InstanceRow, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var row = (await InstancesAsync()).FirstOrDefault(i => i.BuildId == buildId);
            if (row is not null && condition(row)) return row;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"instance of build {buildId}: {(row is null ? "none" : $"{row.State} ({row.Reason})")}; runner:\n{RunnerLog.Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Builds the branch's head and waits for its instance to run.</summary>
    public async Task<InstanceRow> DeployAsync(string branch = "main", string? commit = null)
    {
        var id = await World.QueueBuildAsync(branch, commit);
        var build = await World.WaitForAsync(id, TimeSpan.FromSeconds(120));
        Assert.True(build.Status == "success", string.Join("\n", await World.LogAsync(id)));
        return await WaitForInstanceAsync(id, i => i.State == "running");
    }

    /// <summary>What the instance's stand-in says about itself (database, release), straight from its port.</summary>
    public static async Task<System.Text.Json.JsonElement> InfoAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"http://127.0.0.1:{port}/standin/info");
    }

    /// <summary>The stand-in's info page through serve's proxy, by host name (what a browser at that name gets).</summary>
    public async Task<System.Text.Json.JsonElement> ThroughProxyAsync(string host)
    {
        using var http = new HttpClient { BaseAddress = World.Url, Timeout = TimeSpan.FromSeconds(20) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/standin/info");
        request.Headers.Host = $"{host}:{World.Url.Port}";
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var info = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal($"http://{host}:{World.Url.Port}", info.GetProperty("base_url").GetString()); // --proxy-mode: the name asked for
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        await StopRunnerAsync();
        await World.DisposeAsync();
    }
}
