using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Tests.Runners.Agent.Instances;

/// <summary>A runner's hosting settings (OPS_INSTANCE_*): defaults, values taken, and a bad value refused with its key.</summary>
public sealed class InstanceHostingTests
{
    static InstanceHosting From(params (string Key, string Value)[] values) =>
        InstanceHosting.From(key => values.FirstOrDefault(v => v.Key == key).Value);

    [Fact]
    public void Supervision_timings_default_and_are_taken_from_their_keys()
    {
        var defaults = From();
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(180)),
            (defaults.HealthInterval, defaults.HealthTimeout, defaults.StartTimeout));
        var set = From(("OPS_INSTANCE_HEALTH_SECONDS", "2"), ("OPS_INSTANCE_HEALTH_TIMEOUT_SECONDS", "3.5"), ("OPS_INSTANCE_START_TIMEOUT_SECONDS", "60"));
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3.5), TimeSpan.FromSeconds(60)), (set.HealthInterval, set.HealthTimeout, set.StartTimeout));
    }

    [Theory]
    [InlineData("OPS_INSTANCE_HEALTH_TIMEOUT_SECONDS", "0")]
    [InlineData("OPS_INSTANCE_HEALTH_TIMEOUT_SECONDS", "soon")]
    [InlineData("OPS_INSTANCE_HEALTH_SECONDS", "1000")]
    [InlineData("OPS_INSTANCE_PORTS", "80-90")]
    public void A_bad_value_is_refused_naming_its_key(string key, string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => From((key, value)));
        Assert.StartsWith(key + ":", e.Message);
    }
}
