using System.Diagnostics;
using System.Net.Sockets;
using OdooOps.Database;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Bench;

/// <summary>
/// The stand-in odoo-bin as the proxy bench's instance: its database made by the runner's own code (the project's role on
/// the embedded cluster's Odoo server), initialised once with --stop-after-init, then served with --workers N on a free
/// loopback port. No sandbox: the bench measures the proxy's hop, not the jail.
/// </summary>
sealed class StandInUpstream : IAsyncDisposable
{
    readonly Process _server;

    StandInUpstream(Process server, string url) => (_server, Url) = (server, url);

    public string Url { get; }

    public static async Task<StandInUpstream> StartAsync(LocalPostgres pg, string dir, int workers)
    {
        var odoo = OdooDatabaseServer.From(await EmbeddedOdooRole.EnsureAsync(pg, pg.DataDir, CancellationToken.None))!;
        var project = Guid.NewGuid();
        await odoo.EnsureDatabaseAsync(project, production: true, "bench", CancellationToken.None);
        var env = odoo.OdooEnvironment(project, production: true).ToDictionary();
        env["PGHOST"] = pg.SocketDirectory; // outside a sandbox: the cluster's own socket folder

        var tree = Directory.CreateDirectory(Path.Combine(dir, "odoo")).FullName;
        var bin = Path.Combine(tree, "odoo-bin");
        await using (var stream = typeof(StandInUpstream).Assembly.GetManifestResourceStream("odoo-standin/odoo-bin")!)
        await using (var file = File.Create(bin)) await stream.CopyToAsync(file);
        File.SetUnixFileMode(bin, (UnixFileMode)0b111_101_101);
        var data = Path.Combine(dir, "odoo-data");

        using (var init = Start(bin, tree, env, ["-d", "bench", "-i", "base", "--stop-after-init", "--data-dir", data]))
        {
            await init.WaitForExitAsync();
            if (init.ExitCode != 0) throw new InvalidOperationException($"stand-in init exited {init.ExitCode}");
        }
        var port = FreePort();
        var server = Start(bin, tree, env, ["--http-port", port.ToString(), "--gevent-port", FreePort().ToString(),
            "--http-interface", "127.0.0.1", "-d", "bench", "--db-filter", "^bench$", "--no-database-list", "--proxy-mode",
            "--workers", workers.ToString(), "--max-cron-threads", "0", "--data-dir", data]);
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100))
        {
            try { if ((await http.GetAsync(url + "/web/health")).IsSuccessStatusCode) break; }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !server.HasExited) { }
        }
        return new StandInUpstream(server, url);
    }

    static Process Start(string bin, string tree, IReadOnlyDictionary<string, string> env, string[] args)
    {
        var info = new ProcessStartInfo(bin) { WorkingDirectory = tree, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in env) info.Environment[k] = v;
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
