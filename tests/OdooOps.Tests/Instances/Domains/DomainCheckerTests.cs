using System.Net;
using Microsoft.Extensions.Configuration;
using OdooOps.Instances.Domains;

namespace OdooOps.Tests.Instances.Domains;

/// <summary>
/// Which addresses are "this server" by default: public ones only. A name of the operator's own network (a private
/// address the runners or a load balancer reach the console at) must not be claimable by a tenant as its domain, since
/// the proxy would then hand that name's requests — runner tokens included — to the tenant's instance.
/// </summary>
public sealed class DomainCheckerTests
{
    [Theory]
    [InlineData("203.0.113.9", true)]
    [InlineData("2001:db8::10", true)]
    [InlineData("10.0.0.5", false)]
    [InlineData("172.20.1.1", false)]
    [InlineData("192.168.1.10", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("169.254.10.1", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::5", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.5", false)]
    public void Only_public_addresses_are_this_server_by_default(string address, bool isPublic) =>
        Assert.Equal(isPublic, DomainChecker.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void The_default_holds_no_private_address_and_a_configured_list_is_taken_as_it_is()
    {
        var none = DomainChecker.From(new ConfigurationBuilder().Build());
        Assert.All(none.PublicAddresses, a => Assert.True(DomainChecker.IsPublic(a), a.ToString()));

        var configured = DomainChecker.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            { [DomainChecker.PublicAddressesKey] = " 10.0.0.5, 2001:db8::10 " }).Build());
        Assert.Equal(["10.0.0.5", "2001:db8::10"], configured.PublicAddresses.Select(a => a.ToString()));

        var e = Assert.Throws<InvalidOperationException>(() => DomainChecker.From(new ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string, string?> { [DomainChecker.PublicAddressesKey] = "10.0.0.5, proxy.lan" }).Build()));
        Assert.StartsWith("OPS_PUBLIC_ADDRESSES: 'proxy.lan'", e.Message);
    }
}
