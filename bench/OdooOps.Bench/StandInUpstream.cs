using System.Diagnostics;
using System.Net.Sockets;
using OdooOps.Database;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Bench;

/// <summary>
/// The stand-in odoo-bin as a bench's Odoo: its database made by the runner's own code (the project's role on the
/// embedded cluster's Odoo server), initialised once with --stop-after-init, then served with --workers N on a free
/// loopback port. No sandbox: the benches measure the proxy's hop or the backups, not the jail.
/// </summary>
sealed class StandInUpstream : IAsyncDisposable
{
    /// <summary>The stand-in, its Odoo database server and project, its environment and data dir.</summary>
    public sealed record World(string Bin, string Tree, OdooDatabaseServer Server, Guid ProjectId, IReadOnlyDictionary<string, string> Env, string DataDir);

    readonly Process _server;

    StandInUpstream(Process server, string url) => (_server, Url) = (server, url);

    public string Url { get; }

    public static async Task<StandInUpstream> StartAsync(LocalPostgres pg, string dir, int workers) =>
        await ServeAsync(await PrepareDatabaseAsync(pg, dir), "bench", workers);

    /// <summary>The database "bench", made and initialised with base by the stand-in (claiming <paramref name="odooVersion"/>, default its own).</summary>
    public static async Task<World> PrepareDatabaseAsync(LocalPostgres pg, string dir, string? odooVersion = null)
    {
        var odoo = OdooDatabaseServer.From(await EmbeddedOdooRole.EnsureAsync(pg, pg.DataDir, CancellationToken.None))!;
        var project = Guid.NewGuid();
        await odoo.EnsureDatabaseAsync(project, production: true, "bench", CancellationToken.None);
        var env = odoo.OdooEnvironment(project, production: true).ToDictionary();
        env["PGHOST"] = pg.SocketDirectory; // outside a sandbox: the cluster's own socket folder
        if (odooVersion is not null) env["STANDIN_ODOO_VERSION"] = odooVersion;

        var tree = Directory.CreateDirectory(Path.Combine(dir, "odoo")).FullName;
        var bin = Path.Combine(tree, "odoo-bin");
        await using (var stream = typeof(StandInUpstream).Assembly.GetManifestResourceStream("odoo-standin/odoo-bin")!)
        await using (var file = File.Create(bin)) await stream.CopyToAsync(file);
        File.SetUnixFileMode(bin, (UnixFileMode)0b111_101_101);
        var world = new World(bin, tree, odoo, project, env, Path.Combine(dir, "odoo-data"));
        using var init = Start(world, ["-d", "bench", "-i", "base", "--stop-after-init", "--data-dir", world.DataDir]);
        await init.WaitForExitAsync();
        if (init.ExitCode != 0) throw new InvalidOperationException($"stand-in init exited {init.ExitCode}");
        return world;
    }

    /// <summary>
    /// The stand-in serving <paramref name="database"/>, once <paramref name="probe"/> answers 200 (/web/health needs no
    /// database; /web/login reads it).
    /// </summary>
    public static async Task<StandInUpstream> ServeAsync(World world, string database, int workers, string probe = "/web/health")
    {
        var port = FreePort();
        var server = Start(world, ["--http-port", port.ToString(), "--gevent-port", FreePort().ToString(),
            "--http-interface", "127.0.0.1", "-d", database, "--db-filter", $"^{database}$", "--no-database-list", "--proxy-mode",
            "--workers", workers.ToString(), "--max-cron-threads", "0", "--data-dir", world.DataDir]);
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient();
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(20))
        {
            try { if ((await http.GetAsync(url + probe)).IsSuccessStatusCode) break; }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow < deadline && !server.HasExited) continue;
            await new StandInUpstream(server, url).DisposeAsync();
            throw new InvalidOperationException($"the stand-in on {database} did not answer {probe} with 200 within 60 s");
        }
        return new StandInUpstream(server, url);
    }

    static Process Start(World world, string[] args)
    {
        var info = new ProcessStartInfo(world.Bin) { WorkingDirectory = world.Tree, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in world.Env) info.Environment[k] = v;
        var p = Process.Start(info)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { }; // the stand-in logs every request: read and dropped, so it never blocks on a full pipe
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    static int FreePort()
    {
        using var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_server.HasExited) _server.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync();
        _server.Dispose();
    }
}
