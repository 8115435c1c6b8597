using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances.Proxy;

/// <summary>
/// docs/examples/nginx.conf as documented — only its names, ports and certificate paths substituted — run by a real
/// nginx (scripts/deps.sh installs nginx-light) in front of a real serve: the console, an instance's name and a custom
/// domain over TLS, Odoo's websocket, an upload, http redirected to https, and the client's made-up X-Forwarded-For
/// dropped on the way (nginx sets the peer; serve believes nginx only, as OPS_TRUSTED_PROXIES says).
/// </summary>
public sealed class NginxExampleTests(PostgresCluster cluster)
{
    const string Console = "ops.example.test";
    const string Instance = "main.erp-a.apps.example.test";
    const string Custom = "erp.customer.example";

    static string NginxBinary() =>
        new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("nginx is not installed: scripts/deps.sh ensure_nginx (apt-get install nginx-light).");

    [Fact]
    public async Task The_nginx_example_serves_the_console_instances_and_custom_domains_over_tls()
    {
        await using var w = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["OPS_PUBLIC_URL"] = $"https://{Console}", ["OPS_INSTANCES_DOMAIN"] = "apps.example.test", ["OPS_TRUSTED_PROXIES"] = "127.0.0.1",
        });
        await w.SqlAsync("update ops.instance_domains set name = @Custom, verified_at = now() where branch_id = @b", new { Custom, b = w.Tenants.A.ProductionBranchId });

        using var dir = new TempDir();
        var (tls, plain) = (ProxyWorld.FreePort(), ProxyWorld.FreePort());
        using var cert = WriteCertificate(dir.Path, [Console, "*.erp-a.apps.example.test", Custom], ["ops.example.test", "apps.example.test", Custom]);
        var example = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "nginx.conf"))
            .Replace("example.com", "example.test").Replace(@"example\.com", @"example\.test").Replace("erp.customer.example", Custom)
            .Replace("127.0.0.1:8080", $"127.0.0.1:{w.BaseUri.Port}")
            .Replace("listen 443 ssl", $"listen 127.0.0.1:{tls} ssl").Replace("listen 80;", $"listen 127.0.0.1:{plain};")
            .Replace("/etc/ssl/odooops/", dir.Path + "/");
        File.WriteAllText(Path.Combine(dir.Path, "odooops.conf"), example);
        var temp = string.Join(" ", new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }.Select(t => $"{t}_temp_path {dir.Path}/{t};"));
        File.WriteAllText(Path.Combine(dir.Path, "main.conf"), $$"""
            {{(Environment.UserName == "root" ? "user root;" : "")}}
            pid {{dir.Path}}/nginx.pid;
            error_log {{dir.Path}}/error.log warn;
            events { worker_connections 256; }
            http { access_log off; {{temp}} include {{dir.Path}}/odooops.conf; }
            """);

        using var nginx = Process.Start(new ProcessStartInfo(NginxBinary(), ["-p", dir.Path, "-c", Path.Combine(dir.Path, "main.conf"), "-g", "daemon off; worker_processes 1;"])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            await WaitForPortAsync(tls, nginx, dir.Path);
            using var https = Client(tls, cert);

            var echo = await EchoAsync(https, $"https://{Instance}/web/login", r => r.Headers.Add("X-Forwarded-For", "6.6.6.6"));
            Assert.Equal("a", echo.GetProperty("upstream").GetString());
            Assert.Equal(Instance, echo.GetProperty("host").GetString());
            Assert.Equal("https", echo.GetProperty("x_forwarded_proto").GetString());
            Assert.Equal("127.0.0.1", echo.GetProperty("x_forwarded_for").GetString());

            Assert.Equal("a", (await EchoAsync(https, $"https://{Custom}/web")).GetProperty("upstream").GetString());

            var console = await https.GetAsync($"https://{Console}/healthz");
            Assert.Equal(HttpStatusCode.OK, console.StatusCode);
            Assert.True(console.Headers.Contains("Strict-Transport-Security")); // serve knows it is behind https

            var upload = new HttpRequestMessage(HttpMethod.Post, $"https://{Instance}/web/binary/upload_attachment") { Content = new ByteArrayContent(new byte[20 << 20]) };
            var uploaded = JsonDocument.Parse(await (await https.SendAsync(upload)).Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(20 << 20, uploaded.GetProperty("body_length").GetInt64());

            using var socket = new ClientWebSocket();
            using var invoker = new HttpMessageInvoker(Handler(tls, cert));
            await socket.ConnectAsync(new Uri($"wss://{Instance}/websocket"), invoker, TestContext.Current.CancellationToken);
            await socket.SendAsync(Encoding.UTF8.GetBytes("hi"), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
            var buffer = new byte[256];
            var received = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            Assert.Equal("a/http: hi", Encoding.UTF8.GetString(buffer, 0, received.Count));

            using var http = new HttpClient(Handler(plain, null, redirects: false));
            var redirect = await http.GetAsync($"http://{Instance}/web/login");
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
            Assert.Equal($"https://{Instance}/web/login", redirect.Headers.Location?.ToString());
        }
        finally
        {
            nginx.Kill(entireProcessTree: true);
            await nginx.WaitForExitAsync();
        }
    }

    static async Task<JsonElement> EchoAsync(HttpClient client, string url, Action<HttpRequestMessage>? tweak = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        tweak?.Invoke(request);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    static HttpClient Client(int port, X509Certificate2 cert) => new(Handler(port, cert));

    /// <summary>Every name connects to nginx on loopback (as DNS pointing at this server would); only our certificate is trusted.</summary>
    static SocketsHttpHandler Handler(int port, X509Certificate2? cert, bool redirects = true) => new()
    {
        AllowAutoRedirect = redirects,
        UseProxy = false,
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await s.ConnectAsync(IPAddress.Loopback, port, ct);
            return new NetworkStream(s, ownsSocket: true);
        },
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => cert is not null && presented?.GetCertHashString() == cert.GetCertHashString(),
        },
    };

    /// <summary>One self-signed certificate for every name, written under each file name the example uses.</summary>
    static X509Certificate2 WriteCertificate(string dir, string[] names, string[] files)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=odooops-nginx-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names) san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        foreach (var file in files)
        {
            File.WriteAllText(Path.Combine(dir, file + ".crt"), cert.ExportCertificatePem());
            File.WriteAllText(Path.Combine(dir, file + ".key"), key.ExportPkcs8PrivateKeyPem());
        }
        return cert;
    }

    static async Task WaitForPortAsync(int port, Process nginx, string dir)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (nginx.HasExited)
                Assert.Fail($"nginx exited ({nginx.ExitCode}): {await nginx.StandardError.ReadToEndAsync()} {ReadLog(dir)}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline) { await Task.Delay(100); }
        }
    }

    static string ReadLog(string dir) => File.Exists(Path.Combine(dir, "error.log")) ? File.ReadAllText(Path.Combine(dir, "error.log")) : "";

    sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("odooops-nginx-").FullName;
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
