using OdooOps.Auth;

namespace OdooOps.Tests.Auth;

/// <summary>The per-address sign-in brake: a sliding minute, and memory that does not grow with every address ever seen.</summary>
public sealed class SignInThrottleTests
{
    sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void An_address_is_braked_within_a_minute_and_free_again_after_it()
    {
        var clock = new Clock();
        var service = new SignInService(null!, clock); // throttling never touches the database
        for (var i = 0; i < SignInService.MaxAttemptsPerAddressPerMinute; i++) Assert.Null(service.Throttle("10.0.0.1"));
        Assert.NotNull(service.Throttle("10.0.0.1"));
        Assert.Null(service.Throttle("10.0.0.2"));
        clock.Now = clock.Now.AddMinutes(1).AddSeconds(1);
        Assert.Null(service.Throttle("10.0.0.1"));
    }

    [Fact]
    public void Addresses_idle_for_a_minute_are_forgotten()
    {
        var clock = new Clock();
        var service = new SignInService(null!, clock);
        for (var i = 0; i <= 10_000; i++) service.Throttle($"addr-{i}");
        Assert.Equal(10_001, service.TrackedAddresses);
        clock.Now = clock.Now.AddMinutes(2);
        service.Throttle("fresh");
        Assert.Equal(1, service.TrackedAddresses);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void An_ipv6_client_is_braked_by_its_whole_64(string address, string key)
    {
        Assert.Equal(key, SignInService.BrakeKey(System.Net.IPAddress.Parse(address)));
        Assert.Equal("unknown", SignInService.BrakeKey(null));
    }
}
