using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Runners.Dispatch;
using OdooOps.Server;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Server;

/// <summary>
/// Kestrel's limits as `serve` sets them, on raw sockets against a real port: connections past
/// OPS_HTTP_MAX_CONNECTIONS are closed unanswered and a client that never finishes its headers is cut off after
/// OPS_HTTP_HEADERS_TIMEOUT_SECONDS, while the connections within the limit are served. Bad limits stop the server
/// from being built, with one line naming the key.
/// </summary>
public sealed class HttpLimitsTests(PostgresCluster cluster)
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    const string Request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

    static async Task<TcpClient> ConnectAsync(Uri url)
    {
        var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port);
        return client;
    }

    /// <summary>What the server sends back to <paramref name="request"/> until it pauses or closes ("" when closed unanswered).</summary>
    static async Task<string> ExchangeAsync(TcpClient client, string request)
    {
        var stream = client.GetStream();
        try { await stream.WriteAsync(Encoding.ASCII.GetBytes(request)); }
        catch (IOException) { return ""; } // closed before the request went out
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            var n = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (IOException) { return ""; } // reset
    }

    [Fact]
    public async Task Connections_past_the_limit_are_closed_unanswered_and_slow_headers_are_cut_off()
    {
        await using var server = await LiveServer.StartAsync(cluster, "httplimits", new Dictionary<string, string?>
        {
            [HttpLimits.MaxConnectionsKey] = "5",
            [HttpLimits.HeadersTimeoutKey] = "1",
        });
        var url = new Uri(server.Url);
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 5; i++) // answered, and kept open (keep-alive): each counts against the limit
            {
                var client = await ConnectAsync(url);
                held.Add(client);
                Assert.StartsWith("HTTP/1.1 200", await ExchangeAsync(client, Request));
            }
            using (var sixth = await ConnectAsync(url))
                Assert.Equal("", await ExchangeAsync(sixth, Request));

            // One closed: a new connection is served again, once the server has seen the close.
            held[0].Dispose();
            held.RemoveAt(0);
            var deadline = DateTime.UtcNow + Patience;
            while (true)
            {
                var client = await ConnectAsync(url);
                if ((await ExchangeAsync(client, Request)).StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                {
                    held.Add(client);
                    break;
                }
                client.Dispose();
                if (DateTime.UtcNow > deadline) Assert.Fail("no connection was served after one was closed");
                await Task.Delay(50);
            }

            // A client that never finishes its headers holds its connection for about the timeout, not for ever.
            held[0].Dispose();
            held.RemoveAt(0);
            deadline = DateTime.UtcNow + Patience;
            string answer;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                using var slow = await ConnectAsync(url);
                clock.Restart();
                answer = await ExchangeAsync(slow, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
                if (clock.Elapsed >= TimeSpan.FromSeconds(0.9) || DateTime.UtcNow > deadline) break; // the earlier close not yet seen: refused at once
                await Task.Delay(50);
            }
            Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), Patience);
        }
        finally
        {
            foreach (var client in held) client.Dispose();
        }
    }

    [Theory]
    [InlineData(HttpLimits.MaxConnectionsKey, "0")]
    [InlineData(HttpLimits.MaxUpgradedKey, "many")]
    [InlineData(HttpLimits.HeadersTimeoutKey, "1.5")]
    [InlineData(HttpLimits.KeepAliveKey, "-1")]
    [InlineData(BuildLogStreamSettings.PerUserKey, "0")]
    [InlineData(BuildLogStreamSettings.MaxKey, "lots")]
    [InlineData(DispatchSettings.MaxLogBytesKey, "1000")]
    [InlineData(BuildLogRetentionJob.RetentionKey, "0")]
    public async Task The_server_is_not_built_with_a_bad_limit(string key, string value)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var owner = await cluster.CreateDatabaseAsync("badlimit");
        await using var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
        var e = Assert.Throws<InvalidOperationException>(() => ServerApp.Build("http://127.0.0.1:0", config, database, TestHosts.Secrets));
        Assert.StartsWith($"{key}: '{value}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
