using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli;

/// <summary>`odooops serve` as a process: health, readiness, the embedded database's lifecycle and its single owner.</summary>
public sealed class ServeTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"odooops-serve-{Guid.NewGuid():N}"[..32]);
    readonly List<Process> _processes = [];

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    (Process Process, StringBuilder Output) Start(params string[] args)
    {
        var p = Process.Start(CliRunner.StartInfo(args))!;
        _processes.Add(p);
        var output = new StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return (p, output);
    }

    static async Task<HttpResponseMessage> WaitForAsync(HttpClient http, string url, Process p, StringBuilder output)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"serve exited early ({p.ExitCode}): {output}");
            try { return await http.GetAsync(url); }
            catch (HttpRequestException) { await Task.Delay(200); }
        }
        throw new TimeoutException($"serve did not answer {url}: {output}");
    }

    static void Terminate(Process p) => Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();

    [Fact]
    public async Task Serves_health_on_its_embedded_database_and_stops_it_on_sigterm()
    {
        var port = FreePort();
        var (serve, output) = Start("serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", _dataDir, "--seed-demo");
        using var http = new HttpClient();
        var health = await WaitForAsync(http, $"http://127.0.0.1:{port}/healthz", serve, output);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var ready = await http.GetAsync($"http://127.0.0.1:{port}/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"ready\"", await ready.Content.ReadAsStringAsync());
        Assert.Contains("Demo password (shown once)", output.ToString());
        // On loopback, missing shared secrets are generated into the data dir (0600) and the output says where.
        var secretsFile = Path.Combine(_dataDir, "secrets.env");
        Assert.Contains($"Generated OPS_INGEST_TOKEN, OPS_ADVISORY_SCAN_TOKEN into {secretsFile}", output.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secretsFile));

        // A second serve on the same data dir says so and exits.
        var second = await CliRunner.RunAsync(["serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--data-dir", _dataDir]);
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("already using the data dir", second.Error);

        Terminate(serve);
        Assert.True(serve.WaitForExit(60_000), "serve did not stop on SIGTERM");
        Assert.Equal(0, serve.ExitCode);
        Assert.False(File.Exists(Path.Combine(_dataDir, "pg", "postmaster.pid")), "the embedded PostgreSQL is still running");

        // A second start reuses the data: the demo is found, not loaded again.
        var (again, againOutput) = Start("serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", _dataDir, "--seed-demo");
        Assert.Equal(HttpStatusCode.OK, (await WaitForAsync(http, $"http://127.0.0.1:{port}/readyz", again, againOutput)).StatusCode);
        Assert.Contains("already present", againOutput.ToString());
        Assert.DoesNotContain("Generated OPS_", againOutput.ToString()); // the second start reuses them
        Terminate(again);
        Assert.True(again.WaitForExit(60_000));
    }

    public void Dispose()
    {
        foreach (var p in _processes)
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
