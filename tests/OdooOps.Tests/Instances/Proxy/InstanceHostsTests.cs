using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OdooOps.Instances.Proxy;
using OdooOps.Server;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances.Proxy;

/// <summary>What a host name is (from the name alone), the settings' refusals, the pages' masking, and the console's
/// session cookie staying on the console's own host.</summary>
public sealed class InstanceHostsTests(PostgresCluster cluster)
{
    static InstanceProxySettings Settings(string? domain = null, string? publicUrl = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OPS_INSTANCES_DOMAIN"] = domain, ["OPS_PUBLIC_URL"] = publicUrl,
        }).Build();
        return InstanceProxySettings.From(config, WebSettings.From(config));
    }

    [Theory]
    [InlineData("main.erp.localhost", "instance erp main")]
    [InlineData("MAIN.Erp.LOCALHOST.", "instance erp main")]
    [InlineData("x.main.erp.localhost", "instance - -")]
    [InlineData("erp.localhost", "instance - -")]
    [InlineData(".erp.localhost", "instance - -")]
    [InlineData("localhost", "console")]
    [InlineData("127.0.0.1", "console")]
    [InlineData("[::1]", "console")]
    [InlineData("", "console")]
    [InlineData("ops.example.test", "console")]
    [InlineData("erp.customer.test", "domain strict")]
    [InlineData("main.erp.localhost.customer.test", "domain strict")]
    [InlineData("evilocalhost", "domain strict")]
    public void A_name_is_classified_whole(string host, string expected)
    {
        var target = InstanceHosts.Classify(host, Settings(publicUrl: "https://ops.example.test"));
        var shown = target switch
        {
            InstanceHosts.Console => "console",
            InstanceHosts.InstanceName n => $"instance {n.ProjectLabel ?? "-"} {n.BranchLabel ?? "-"}",
            InstanceHosts.CustomDomain d => d.Strict ? "domain strict" : "domain",
            _ => "?",
        };
        Assert.Equal(expected, shown);
    }

    [Fact]
    public void Without_a_public_url_other_names_may_be_the_consoles() =>
        Assert.Equal(new InstanceHosts.CustomDomain("my-laptop.lan", false), InstanceHosts.Classify("my-laptop.lan", Settings()));

    [Theory]
    [InlineData("example.test", "https://ops.example.test", "must not be a parent of the console's host")]
    [InlineData("Not A Domain", null, "is not a domain name")]
    [InlineData("-apps.example.test", null, "is not a domain name")]
    public void A_bad_instances_domain_stops_the_server_with_one_line(string domain, string? publicUrl, string message)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Settings(domain, publicUrl));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_console_at_the_instances_domain_itself_or_beside_it_starts()
    {
        Assert.Equal("localhost", Settings(publicUrl: "http://localhost:8080").Domain);
        Assert.Equal("apps.example.test", Settings("Apps.Example.Test.", "https://ops.example.test").Domain);
    }

    [Fact]
    public void Pages_mask_addresses_and_ports()
    {
        Assert.Equal("health check [address]/web/health failed; [address] refused, [address] gone at 12:30:45",
            InstancePages.Masked("health check http://127.0.0.1:8069/web/health failed; 10.1.2.3:8072 refused, [fd00::5]:8069 gone at 12:30:45"));
        Assert.Contains("&lt;script&gt;", InstancePages.Html(InstancePages.ForState("failed", "<script>alert(1)</script>")!));
    }

    [Fact]
    public async Task The_consoles_session_cookie_is_host_only_so_browsers_never_send_it_to_instances()
    {
        await using var server = await LiveServer.StartAsync(cluster, "cookie");
        var options = server.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        Assert.Null(options.Cookie.Domain);
    }
}
