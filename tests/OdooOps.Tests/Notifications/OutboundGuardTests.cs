using System.Net;
using OdooOps.Notifications;
using OdooOps.Notifications.Delivery;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// Where a channel may make the server connect, unless the operator allows private targets: the IPv6 spellings of a
/// private IPv4 address (mapped, compatible, 6to4, NAT64), Teredo and site-local are refused like the plain ones — when a
/// channel is saved and again when the worker connects — while the same forms of a public address pass; and only a
/// channel kind's ports are reached, never a database's or a cluster API's. Nor are this server's own addresses, public
/// ones included (OPS_PUBLIC_ADDRESSES, its interfaces'), where a service bound to every address would answer. The
/// tests' loopback receivers (private targets allowed, ephemeral ports) keep working.
/// </summary>
public sealed class OutboundGuardTests(PostgresCluster cluster) : IAsyncLifetime
{
    static readonly NotificationSettings Closed = NotificationBench.Settings with { AllowPrivateTargets = false };
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    [Theory]
    [InlineData("::ffff:10.0.0.1")]                       // IPv4-mapped
    [InlineData("::ffff:100.64.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:0:10.0.0.1")]                     // IPv4-translated
    [InlineData("::10.0.0.1")]                            // IPv4-compatible
    [InlineData("::127.0.0.1")]
    [InlineData("2002:7f00:1::1")]                        // 6to4 of 127.0.0.1
    [InlineData("2002:a9fe:a9fe::")]                      // 6to4 of 169.254.169.254 (cloud metadata)
    [InlineData("2002:c0a8:101::1")]                      // 6to4 of 192.168.1.1
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]  // Teredo
    [InlineData("64:ff9b::a00:1")]                        // NAT64 of 10.0.0.1
    [InlineData("64:ff9b::7f00:1")]                       // NAT64 of 127.0.0.1
    [InlineData("64:ff9b:1::a00:1")]                      // local-use NAT64
    [InlineData("fec0::1")]                               // site-local
    [InlineData("fd00::1")]
    [InlineData("169.254.169.254")]
    public void Private_addresses_in_every_spelling_are_refused(string address)
    {
        Assert.False(OutboundGuard.IsPublic(IPAddress.Parse(address)), address);
        Assert.True(OutboundGuard.IsPrivateLiteral($"[{address}]"), address);
        var (_, errors) = NotificationChannelRules.Check(new ChannelRequest("x", "webhook", $"http://[{address}]/in", "0123456789abcdef", null, null,
            null, null, null, null), null, Closed);
        Assert.True(errors.Errors.ContainsKey("url"), address);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("2002:808:808::1")]   // 6to4 of a public address
    [InlineData("64:ff9b::808:808")]  // NAT64 of a public address
    [InlineData("2606:4700:4700::1111")]
    public void Public_addresses_pass(string address) => Assert.True(OutboundGuard.IsPublic(IPAddress.Parse(address)), address);

    [Fact]
    public async Task The_worker_refuses_a_6to4_spelling_of_loopback_before_connecting()
    {
        // Saved while private targets were allowed (or named by a host that resolved to it): checked again at the connection.
        await using var hooks = await HookReceiver.StartAsync();
        var port = new Uri(hooks.Url).Port;
        var delivery = await _b.TestAsync(await _b.ChannelAsync($"http://[2002:7f00:1::1]:{port}/in", "tunnelled"));
        Assert.Equal(1, await _b.Worker(Closed).RunOnceAsync(CancellationToken.None));
        Assert.Contains("resolves to a loopback or private address", await _b.ErrorAsync(delivery));
    }

    [Theory]
    [InlineData("https://hooks.example.com:6379/in", false)]
    [InlineData("https://hooks.example.com:2375/in", false)]
    [InlineData("http://hooks.example.com:22/in", false)]
    [InlineData("https://hooks.example.com:8443/in", true)]
    [InlineData("http://hooks.example.com/in", true)]
    public void Webhooks_reach_web_ports_and_high_ports_but_not_internal_services(string url, bool allowed)
    {
        var (spec, errors) = NotificationChannelRules.Check(new ChannelRequest("x", "webhook", url, "0123456789abcdef", null, null, null, null, null, null),
            null, NotificationBench.Settings);
        Assert.Equal(allowed, spec is not null);
        Assert.Equal(!allowed, errors.Errors.ContainsKey("url"));
    }

    [Fact]
    public async Task A_channel_whose_port_is_an_internal_service_is_refused_at_connection_too()
    {
        var smtp = NotificationChannelRules.Check(new ChannelRequest("m", "email", null, null, ["a@acme.test"],
            new SmtpRequest("smtp.acme.test", 5432, "none", null, null, "ops@acme.test"), null, null, null, null), null, NotificationBench.Settings);
        Assert.True(smtp.Errors.Errors.ContainsKey("smtp.port"));

        // A row changed behind the rules' back (or written before them) is still not connected to.
        await using var hooks = await HookReceiver.StartAsync();
        var channel = await _b.ChannelAsync(hooks, "redis");
        await _b.ExecuteAsync("update ops.notification_channels set target = 'http://127.0.0.1:6379/' where id = @channel", new { channel });
        var delivery = await _b.TestAsync(channel);
        Assert.Equal(1, await _b.Worker().RunOnceAsync(CancellationToken.None));
        Assert.Contains("127.0.0.1:6379: channels may reach only 80, 443 or a port above 1023", await _b.ErrorAsync(delivery));
    }

    [Fact]
    public async Task This_servers_own_public_address_is_refused_when_saved_and_when_connecting()
    {
        // 198.51.100.x is documentation (refused anyway); a real-looking public address stands for the server's own here.
        var own = IPAddress.Parse("8.8.4.4");
        var closed = Closed with { PublicAddresses = [own] };
        Assert.True(OutboundGuard.IsPublic(own));
        Assert.True(OutboundGuard.IsPrivateLiteral("8.8.4.4", closed.OwnAddresses));
        Assert.True(OutboundGuard.IsPrivateLiteral("[::ffff:8.8.4.4]", closed.OwnAddresses));
        Assert.False(OutboundGuard.IsPrivateLiteral("8.8.4.4"));
        var (_, errors) = NotificationChannelRules.Check(new ChannelRequest("x", "webhook", "http://8.8.4.4:8080/in", "0123456789abcdef", null, null,
            null, null, null, null), null, closed);
        Assert.Contains("this server's own address", Assert.Single(errors.Errors["url"]));
        Assert.True(NotificationChannelRules.Check(new ChannelRequest("m", "email", null, null, ["a@acme.test"],
            new SmtpRequest("8.8.4.4", 2525, "none", null, null, "ops@acme.test"), null, null, null, null), null, closed).Errors.Errors.ContainsKey("smtp.host"));

        // Saved before the address was the server's (or under a name that resolves to it): refused before connecting.
        var delivery = await _b.TestAsync(await _b.ChannelAsync("http://8.8.4.4:8080/in", "own address"));
        Assert.Equal(1, await _b.Worker(closed).RunOnceAsync(CancellationToken.None));
        Assert.Contains("8.8.4.4 resolves to this server's own address, which channels may not reach.", await _b.ErrorAsync(delivery));
    }

    [Fact]
    public void Every_address_of_this_machine_s_interfaces_counts_as_its_own()
    {
        var addresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address)).ToList();
        Assert.NotEmpty(addresses);
        Assert.All(addresses, a => Assert.True(OutboundGuard.IsOwn(a, []), a.ToString()));
        Assert.False(OutboundGuard.IsOwn(IPAddress.Parse("8.8.4.4"), []));
    }
}
