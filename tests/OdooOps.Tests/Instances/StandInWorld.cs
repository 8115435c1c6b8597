using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>
/// What the stand-in tests share: the script installed in a folder of their own (0755, as for other uids), an addons
/// folder, and a PostgreSQL login role of the suite's cluster that may create databases, reached as Odoo reaches it
/// (libpq's PG* variables or --db_* options), over TCP or the cluster's Unix socket.
/// </summary>
public sealed class StandInWorld : IAsyncDisposable
{
    readonly PostgresCluster _cluster;
    readonly List<StandInProcess> _processes = [];

    StandInWorld(PostgresCluster cluster, string root)
    {
        _cluster = cluster;
        Root = root;
        OdooBin = OdooStandIn.Install(root);
        Addons = Directory.CreateDirectory(Path.Combine(root, "addons")).FullName;
        Release = Directory.CreateDirectory(Path.Combine(root, "release")).FullName;
        DataDir = Path.Combine(root, "data");
        Role = $"standin_{Guid.NewGuid():N}"[..20];
    }

    public string Root { get; }
    public string OdooBin { get; }
    public string Addons { get; }
    /// <summary>The working directory of runs: a release's root, where standin.json is read.</summary>
    public string Release { get; }
    public string DataDir { get; }
    public string Role { get; }
    public string Password { get; } = Guid.NewGuid().ToString("N");
    public int PgPort => _cluster.Server.Port;
    public string SocketDir { get; private set; } = "";

    public static async Task<StandInWorld> CreateAsync(PostgresCluster cluster)
    {
        var root = Path.Combine(Path.GetTempPath(), $"odooops-standin-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var world = new StandInWorld(cluster, root);
        await using var conn = await world.SuperConnectAsync("postgres");
        await conn.ExecuteAsync($"create role {world.Role} login createdb password '{world.Password}'");
        // Odoo's maintenance connection (creating and listing databases) goes to "postgres", which the embedded
        // default closes to PUBLIC once an instance test class has set it up in this shared cluster.
        await conn.ExecuteAsync($"grant connect on database postgres to {world.Role}");
        world.SocketDir = (await conn.ExecuteScalarAsync<string>("show unix_socket_directories"))!.Split(',')[0].Trim();
        return world;
    }

    /// <summary>libpq's variables for this role: over TCP, or over the cluster's Unix socket directory.</summary>
    public Dictionary<string, string> Env(bool overSocket = false) => new()
    {
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOME"] = Root, ["PGHOST"] = overSocket ? SocketDir : "127.0.0.1",
        ["PGPORT"] = PgPort.ToString(), ["PGUSER"] = Role, ["PGPASSWORD"] = Password,
    };

    public static string NewDatabase() => $"standin_{Guid.NewGuid():N}"[..24];

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Polls /web/health until it answers 200 (modules install first); fails if the process ends or after 60 s.</summary>
    public static async Task WaitHealthyAsync(HttpClient http, StandInProcess process, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited) Assert.Fail($"odoo-bin ended ({await process.WaitForExitAsync()}):\n{process.Output}");
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if ((await http.GetAsync($"http://127.0.0.1:{port}/web/health", cts.Token)).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (OperationCanceledException) { }
            if (DateTime.UtcNow > deadline) Assert.Fail($"odoo-bin not healthy on {port}:\n{process.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Sends <paramref name="text"/> on ws://127.0.0.1:port/websocket and returns the answer.</summary>
    public static async Task<string> EchoAsync(int port, string text)
    {
        using var socket = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/websocket"), cts.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[4096];
        var received = await socket.ReceiveAsync(buffer, cts.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    /// <summary>A module folder with its __manifest__.py (and a tests/test_*.py with <paramref name="tests"/> tests).</summary>
    public void AddModule(string name, string version, string[]? depends = null, int tests = 0)
    {
        var folder = Path.Combine(Addons, name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        var deps = string.Join(", ", (depends ?? ["base"]).Select(d => $"'{d}'"));
        File.WriteAllText(Path.Combine(folder, "__manifest__.py"),
            $"# -*- coding: utf-8 -*-\n{{\n    'name': '{name}',\n    'version': '{version}',\n    'depends': [{deps}],  # a comment\n}}\n");
        File.WriteAllText(Path.Combine(folder, "__init__.py"), "");
        if (tests == 0) return;
        Directory.CreateDirectory(Path.Combine(folder, "tests"));
        File.WriteAllText(Path.Combine(folder, "tests", "test_things.py"),
            string.Concat(Enumerable.Range(1, tests).Select(i => $"    def test_{i}(self):\n        pass\n")));
    }

    public StandInProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? env = null, string? cwd = null)
    {
        var process = StandInProcess.Start(OdooBin, arguments, env ?? Env(), cwd ?? Release);
        _processes.Add(process);
        return process;
    }

    /// <summary>Runs odoo-bin to its end (modules, neutralize…): the exit code and the process with its log.</summary>
    public async Task<(int Code, StandInProcess Run)> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? env = null, string? cwd = null)
    {
        var run = Start(arguments, env, cwd);
        return (await run.WaitForExitAsync(), run);
    }

    public async Task<NpgsqlConnection> SuperConnectAsync(string database)
    {
        var conn = new NpgsqlConnection(_cluster.ConnectionString(database).ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    public async Task<List<T>> QueryAsync<T>(string database, string sql)
    {
        await using var conn = await SuperConnectAsync(database);
        return [.. await conn.QueryAsync<T>(sql)];
    }

    public async Task<bool> DatabaseExistsAsync(string database)
    {
        await using var conn = await SuperConnectAsync("postgres");
        return await conn.ExecuteScalarAsync<bool>("select exists (select 1 from pg_database where datname = @database)", new { database });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
