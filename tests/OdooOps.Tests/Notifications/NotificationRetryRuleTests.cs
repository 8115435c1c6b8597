using System.Net;
using System.Net.Sockets;
using System.Text;
using OdooOps.Notifications;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// An attempt is tried again only when the receiver provably did not get it (no connection) or answered that it failed
/// for now (HTTP 5xx, 429, 408; SMTP 4xx, or any refusal before the message was written). A receiver that got the body
/// and then did not answer in time, or dropped the connection, may well have processed it: the delivery ends unknown
/// and is never sent again by itself — a slow receiver no longer gets the event up to eight times. Any other answer
/// (404, SMTP 5xx after the message) fails it for good. Real receivers (Kestrel, a raw socket, aiosmtpd); the manual
/// clock moves past every retry the rule would have made.
/// </summary>
public sealed class NotificationRetryRuleTests(PostgresCluster cluster) : IAsyncLifetime
{
    /// <summary>Two seconds an attempt: receivers that never answer make it reach its deadline (the outcome does not depend on how fast).</summary>
    static readonly NotificationSettings Quick = NotificationBench.Settings with { Timeout = TimeSpan.FromSeconds(2) };
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    Task<int> RunAsync() => _b.Worker(Quick).RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90));

    /// <summary>Hours later, every retry the old rule would have made is due: nothing is claimed.</summary>
    async Task NeverAgainAsync()
    {
        _b.Clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(0, await RunAsync());
    }

    [Fact]
    public async Task A_receiver_that_got_the_body_and_never_answered_is_not_sent_it_again()
    {
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Gate = new(TaskCreationOptions.RunContinuationsAsynchronously); // opened only when the receiver goes
        var delivery = await _b.TestAsync(await _b.ChannelAsync(hooks, "slow receiver"));

        Assert.Equal(1, await RunAsync());
        Assert.Single(hooks.All);
        Assert.Equal(("unknown", 1, (int?)null, (DateTime?)null), await _b.RowAsync(delivery));
        Assert.Equal("Sent, no answer within 2 s: not sent again by itself; redeliver it if the receiver did not get it.", await _b.ErrorAsync(delivery));
        await NeverAgainAsync();
        Assert.Single(hooks.All);
    }

    [Fact]
    public async Task A_connection_dropped_after_the_body_ends_unknown_and_a_refused_one_is_tried_again()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var received = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var request = await ReadRequestAsync(client.GetStream());
            client.Client.Close(); // the whole request read, then gone without a word
            return request;
        });
        var delivery = await _b.TestAsync(await _b.ChannelAsync($"http://127.0.0.1:{port}/in", "dropping"));
        Assert.Equal(1, await RunAsync());
        Assert.Contains("\"event\":\"notification.test\"", await received);
        Assert.Equal(("unknown", 1), (await _b.RowAsync(delivery)) is var r ? (r.Status, r.Attempts) : default);
        Assert.StartsWith("Sent, then the connection failed (", await _b.ErrorAsync(delivery));
        listener.Stop();
        await NeverAgainAsync();

        // Nothing listens now: the connection is refused before a byte is written, so it certainly did not arrive.
        var refused = await _b.TestAsync(await _b.ChannelAsync($"http://127.0.0.1:{port}/in", "refusing"));
        Assert.Equal(1, await RunAsync());
        var row = await _b.RowAsync(refused);
        Assert.Equal(("pending", 1, (int?)null), (row.Status, row.Attempts, row.Code));
        Assert.Equal(_b.At(TimeSpan.FromSeconds(30)), row.Next!.Value, TimeSpan.FromMilliseconds(1));
    }

    /// <summary>Reads one HTTP/1.1 request (its headers, then Content-Length bytes of body); answers it as text.</summary>
    static async Task<string> ReadRequestAsync(NetworkStream stream)
    {
        var data = new List<byte>();
        var buffer = new byte[8192];
        while (true)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) break;
            data.AddRange(buffer.AsSpan(0, n).ToArray());
            var text = Encoding.UTF8.GetString([.. data]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0) continue;
            var length = text[..end].Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
            if (data.Count >= Encoding.UTF8.GetByteCount(text[..end]) + 4 + length) return text;
        }
        return Encoding.UTF8.GetString([.. data]);
    }

    [Fact]
    public async Task A_refusal_fails_at_once_while_a_busy_receiver_is_tried_again_when_it_asks()
    {
        await using var hooks = await HookReceiver.StartAsync();
        hooks.Answer(new(404, "no such hook"), new(429, "slow down", RetryAfterSeconds: 240), new(408));
        var channel = await _b.ChannelAsync(hooks, "answering");

        var gone = await _b.TestAsync(channel);
        Assert.Equal(1, await RunAsync());
        Assert.Equal(("failed", 1, 404, (DateTime?)null), await _b.RowAsync(gone));
        Assert.Equal("HTTP 404: no such hook", await _b.ErrorAsync(gone));

        var busy = await _b.TestAsync(channel);
        Assert.Equal(1, await RunAsync());
        var row = await _b.RowAsync(busy);
        Assert.Equal(("pending", 1, 429), (row.Status, row.Attempts, row.Code));
        Assert.Equal(_b.At(TimeSpan.FromSeconds(240)), row.Next!.Value, TimeSpan.FromMilliseconds(1));

        var timedOut = await _b.TestAsync(channel);
        Assert.Equal(1, await RunAsync());
        Assert.Equal(("pending", 408), (await _b.RowAsync(timedOut)) is var t ? (t.Status, t.Code) : default);
        Assert.Equal(3, hooks.All.Count);
    }

    [Theory]
    [InlineData(SmtpReceiver.Script.Rcpt451, "pending", 451, 0)]  // refused before the message: nothing was sent
    [InlineData(SmtpReceiver.Script.Data451, "pending", 451, 1)]  // the message refused for now: try again later
    [InlineData(SmtpReceiver.Script.Data554, "failed", 554, 1)]   // refused for good
    [InlineData(SmtpReceiver.Script.DataHang, "unknown", null, 1)] // it has the message and never answers: maybe delivered
    public async Task An_smtp_server_s_answer_decides_and_its_silence_after_the_message_is_not_retried(SmtpReceiver.Script script, string status,
        int? code, int messages)
    {
        await using var smtp = await SmtpReceiver.StartScriptedAsync(script);
        var saved = await _b.Channels.SaveAsync(_b.Actor, _b.Org, null, new ChannelRequest($"mail {script}", "email", null, null, ["oncall@acme.test"],
            new SmtpRequest("127.0.0.1", smtp.Port, "none", null, null, "ops@acme.test"), ["build.failed"], null, null, null), CancellationToken.None);
        var delivery = await _b.TestAsync(Assert.IsType<NotificationChannels.Outcome.Done>(saved).Channel.Id);

        Assert.Equal(1, await RunAsync());
        var row = await _b.RowAsync(delivery);
        Assert.Equal((status, 1, code), (row.Status, row.Attempts, row.Code));
        Assert.Equal(messages, smtp.DataCount);
        if (status == "unknown")
        {
            Assert.StartsWith("Sent, no answer within ", await _b.ErrorAsync(delivery));
            await NeverAgainAsync();
            Assert.Equal(1, smtp.DataCount);
        }
    }
}
