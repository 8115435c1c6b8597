using Microsoft.Extensions.Configuration;
using OdooOps.Webhooks;

namespace OdooOps.Tests.Webhooks;

/// <summary>OPS_CANCEL_SUPERSEDED_BUILDS and OPS_PUBLIC_URL: defaults, accepted values, and a clear refusal at start-up.</summary>
public sealed class WebhookSettingsTests
{
    static WebhookSettings From(string? cancel = null, string? url = null) =>
        WebhookSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [WebhookSettings.CancelSupersededKey] = cancel, [WebhookSettings.PublicUrlKey] = url,
        }).Build());

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("true", true)]
    [InlineData("False", false)]
    [InlineData("0", false)]
    [InlineData(" yes ", true)]
    public void Cancelling_superseded_builds_is_on_unless_turned_off(string? raw, bool expected) =>
        Assert.Equal(expected, From(cancel: raw).CancelSupersededBuilds);

    [Theory]
    [InlineData(WebhookSettings.CancelSupersededKey, "maybe")]
    [InlineData(WebhookSettings.PublicUrlKey, "ops.example.com")]
    [InlineData(WebhookSettings.PublicUrlKey, "ftp://ops.example.com")]
    [InlineData(WebhookSettings.PublicUrlKey, "https://ops.example.com/?x=1")]
    public void A_bad_value_is_refused_naming_the_key(string key, string raw)
    {
        var e = Assert.Throws<InvalidOperationException>(() => key == WebhookSettings.PublicUrlKey ? From(url: raw) : From(cancel: raw));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void A_public_url_keeps_its_path_without_a_trailing_slash()
    {
        var settings = From(url: "https://example.com/ops/");
        var request = new Microsoft.AspNetCore.Http.DefaultHttpContext().Request;
        Assert.Equal("https://example.com/ops", settings.BaseUrl(request));
        Assert.Null(From().PublicUrl);
    }
}
