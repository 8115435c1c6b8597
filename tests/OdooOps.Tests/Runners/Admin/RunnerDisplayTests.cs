using OdooOps.Runners.Admin;
using OdooOps.Runners.Admin.Pages;
using OdooOps.Ui;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>The runners page's pure rules: a runner's state and colours, token colours, the lifetimes offered, the sidebar.</summary>
public sealed class RunnerDisplayTests
{
    [Theory]
    [InlineData(true, false, "online", "success")]
    [InlineData(false, false, "offline", "neutral")]
    [InlineData(true, true, "disabled", "warning")]
    [InlineData(false, true, "disabled", "warning")]
    public void A_disabled_runner_reads_disabled_whether_or_not_it_is_seen(bool online, bool disabled, string state, string tone)
    {
        var runner = new RunnerInfo { Name = "r", Online = online, Disabled = disabled };
        Assert.Equal(state, RunnerDisplay.State(runner));
        Assert.Equal(tone, RunnerDisplay.StateTone(state));
    }

    [Theory]
    [InlineData("unused", "success")]
    [InlineData("used", "success")]
    [InlineData("expired", "expired")]
    [InlineData("revoked", "neutral")]
    public void Tokens_that_still_register_runners_are_green(string status, string tone) => Assert.Equal(tone, RunnerDisplay.TokenTone(status));

    [Fact]
    public void The_offered_lifetimes_are_within_what_the_api_takes_and_read_naturally()
    {
        Assert.All(RunnerDisplay.ExpiryHours, h => Assert.True(RunnerAdmin.ValidateExpiry(h).IsValid));
        Assert.Contains(RunnerAdmin.DefaultExpiresInHours, RunnerDisplay.ExpiryHours);
        Assert.Equal(["1 hour", "24 hours", "7 days", "30 days"], RunnerDisplay.ExpiryHours.Select(RunnerDisplay.Lifetime));
        Assert.False(RunnerAdmin.ValidateExpiry(0).IsValid);
        Assert.False(RunnerAdmin.ValidateExpiry(RunnerAdmin.MaxExpiresInHours + 1).IsValid);
        Assert.True(RunnerAdmin.ValidateExpiry(null).IsValid); // the default applies
    }

    [Fact]
    public void The_sidebar_links_to_the_runners_page() =>
        Assert.Equal("Runners", UiSections.Current("app/runners?disabled=x")?.Name);
}
