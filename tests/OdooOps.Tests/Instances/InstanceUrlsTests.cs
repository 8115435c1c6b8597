using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using OdooOps.Instances;
using OdooOps.Instances.Pages;
using OdooOps.Server;

namespace OdooOps.Tests.Instances;

/// <summary>The one writer of instance URLs and the console's instance wording, without a server.</summary>
public sealed class InstanceUrlsTests
{
    static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build();

    static HttpRequest Request(string scheme, string host)
    {
        var http = new DefaultHttpContext();
        http.Request.Scheme = scheme;
        http.Request.Host = HostString.FromUriComponent(host);
        return http.Request;
    }

    static string? Url(IConfiguration config, HttpRequest request, string? branch = "main", string? project = "erp") =>
        InstanceUrls.From(config, WebSettings.From(config)).For(request, branch, project);

    [Theory]
    [InlineData("http", "127.0.0.1:8080", "http://main.erp.localhost:8080")]
    [InlineData("http", "ops.example.com", "http://main.erp.localhost")]
    [InlineData("https", "ops.example.com:443", "https://main.erp.localhost")]
    public void By_default_the_scheme_and_port_are_those_serve_is_reached_at(string scheme, string host, string expected) =>
        Assert.Equal(expected, Url(Config(), Request(scheme, host)));

    [Fact]
    public void The_public_url_wins_over_the_request_and_the_settings_over_both()
    {
        var request = Request("http", "127.0.0.1:8080");
        Assert.Equal("https://main.erp.apps.example.com", Url(Config(("OPS_PUBLIC_URL", "https://ops.example.com"), (InstanceHostSettings.DomainKey, "Apps.Example.com.")), request));
        Assert.Equal("http://main.erp.apps.test:8069", Url(Config((InstanceHostSettings.DomainKey, "apps.test"), (InstanceUrls.SchemeKey, "http"), (InstanceUrls.PortKey, "8069")), request));
        Assert.Null(Url(Config(), request, branch: null)); // labels not assigned yet
    }

    [Theory]
    [InlineData(InstanceHostSettings.DomainKey, "under_score.example.com")]
    [InlineData(InstanceHostSettings.DomainKey, "-bad.example.com")]
    [InlineData(InstanceUrls.SchemeKey, "ftp")]
    [InlineData(InstanceUrls.PortKey, "70000")]
    public void A_bad_setting_is_refused_with_its_key(string key, string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => InstanceUrls.From(Config((key, value)), WebSettings.From(Config())));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Only_a_current_instance_has_a_url()
    {
        var urls = InstanceUrls.From(Config(), WebSettings.From(Config()));
        var instance = new Instance { IsCurrent = false, BranchHostLabel = "main", ProjectHostLabel = "erp" };
        Assert.Null(urls.WithUrl(instance, Request("http", "localhost:8080")).Url);
        Assert.Equal("http://main.erp.localhost:8080", urls.WithUrl(instance with { IsCurrent = true }, Request("http", "localhost:8080")).Url);
    }

    [Fact]
    public void The_console_offers_what_the_state_allows_and_confirms_production()
    {
        var running = new Instance { CanManage = true, State = "running", Desired = "running", Stage = "production" };
        Assert.Equal(["restart", "stop"], InstanceDisplay.Offered(running));
        Assert.Equal(["start", "stop"], InstanceDisplay.Offered(running with { State = "failed" }));
        Assert.Equal(["start"], InstanceDisplay.Offered(running with { Desired = "stopped" }));
        Assert.Empty(InstanceDisplay.Offered(running with { RetiredAt = DateTime.UtcNow }));
        Assert.Empty(InstanceDisplay.Offered(running with { CanManage = false }));
        Assert.True(InstanceDisplay.NeedsConfirmation(running, "restart"));
        Assert.False(InstanceDisplay.NeedsConfirmation(running, "start"));
        Assert.False(InstanceDisplay.NeedsConfirmation(running with { Stage = "staging" }, "stop"));
    }

    [Fact]
    public void Sparklines_span_their_box_and_a_flat_series_sits_in_the_middle()
    {
        Assert.Equal("1,17 32,9 63,1", InstanceDisplay.SparklinePoints([10, 20, 30], 64, 18));
        Assert.Equal("1,9 63,9", InstanceDisplay.SparklinePoints([5, 5], 64, 18));
        Assert.Equal("", InstanceDisplay.SparklinePoints([5], 64, 18));
    }
}
