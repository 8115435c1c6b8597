using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances.Proxy;

/// <summary>
/// docs/examples/Caddyfile as documented — names and the serve address substituted, and Caddy's own CA instead of a
/// public one (no network here) — run by a real Caddy (scripts/deps.sh installs it) in front of a real serve: instance
/// names and verified custom domains get certificates on demand, names serve does not vouch for (its tls-ask endpoint)
/// get none, and the console answers on its own name.
/// </summary>
public sealed class CaddyExampleTests(PostgresCluster cluster)
{
    static string CaddyBinary() =>
        new[] { "/usr/bin/caddy", "/usr/local/bin/caddy" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("caddy is not installed: scripts/deps.sh ensure_caddy (apt-get install caddy).");

    [Fact]
    public async Task The_caddy_example_gets_certificates_only_for_names_serve_answers()
    {
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["OPS_PUBLIC_URL"] = "https://ops.example.test", ["OPS_INSTANCES_DOMAIN"] = "apps.example.test", ["OPS_TRUSTED_PROXIES"] = "127.0.0.1",
        });
        await w.SqlAsync("update ops.instance_domains set verified_at = now() where branch_id = @b", new { b = w.Tenants.A.ProductionBranchId });

        var dir = Directory.CreateTempSubdirectory("odooops-caddy-").FullName;
        var (https, http) = (ProxyWorld.FreePort(), ProxyWorld.FreePort());
        var caddyfile = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "Caddyfile"))
            .Replace("ops.example.com", "ops.example.test").Replace("127.0.0.1:8080", $"127.0.0.1:{w.BaseUri.Port}")
            .Replace("{\n\ton_demand_tls {", $"{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\tdefault_bind 127.0.0.1\n\thttp_port {http}\n\thttps_port {https}\n" +
                                              $"\tstorage file_system {{\n\t\troot {dir}/data\n\t}}\n\ton_demand_tls {{");
        Assert.Contains("local_certs", caddyfile);
        File.WriteAllText(Path.Combine(dir, "Caddyfile"), caddyfile);
        var start = new ProcessStartInfo(CaddyBinary(), ["run", "--config", Path.Combine(dir, "Caddyfile"), "--adapter", "caddyfile"])
            { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(dir, "config");
        start.Environment["XDG_DATA_HOME"] = Path.Combine(dir, "data");
        start.Environment["HOME"] = dir;
        using var caddy = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        caddy.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        caddy.BeginErrorReadLine();
        caddy.BeginOutputReadLine();
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectCallback = async (_, ct) =>
                {
                    var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
                    await s.ConnectAsync(IPAddress.Loopback, https, ct);
                    return new NetworkStream(s, ownsSocket: true);
                },
                // Caddy's own CA signs here (no ACME without a network); what matters is which names get a certificate.
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            }) { Timeout = TimeSpan.FromSeconds(60) };

            var instance = await GetEventuallyAsync(client, "https://main.erp-a.apps.example.test/web/login", caddy, log);
            var echo = JsonDocument.Parse(await instance.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("a", echo.GetProperty("upstream").GetString());
            Assert.Equal("https", echo.GetProperty("x_forwarded_proto").GetString());
            Assert.Equal("main.erp-a.apps.example.test", echo.GetProperty("host").GetString());

            Assert.Equal("a", JsonDocument.Parse(await client.GetStringAsync("https://erp-a.example.com/web")).RootElement.GetProperty("upstream").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("https://ops.example.test/healthz")).StatusCode);

            // Names serve does not answer: no certificate, the handshake fails.
            foreach (var name in new[] { "nope.erp-a.apps.example.test", "erp-b.example.com" /* B's, not verified */, "random.example.test" })
                await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"https://{name}/"));
        }
        finally
        {
            caddy.Kill(entireProcessTree: true);
            await caddy.WaitForExitAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    static async Task<HttpResponseMessage> GetEventuallyAsync(HttpClient client, string url, Process caddy, System.Text.StringBuilder log)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (caddy.HasExited) Assert.Fail($"caddy exited ({caddy.ExitCode}): {log}");
            try
            {
                var response = await client.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK) return response;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
            if (DateTime.UtcNow > deadline) Assert.Fail($"{url} never answered through caddy: {log}");
            await Task.Delay(200);
        }
    }
}
