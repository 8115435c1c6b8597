using OdooOps.Tests.Infrastructure;
namespace OdooOps.Tests.Ui;
public sealed class StylesheetProbeTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Probe()
    {
        await using var server = await LiveServer.StartAsync(cluster);
        using var http = new HttpClient();
        var r = await http.GetAsync(server.Url + "/app.css");
        Assert.Fail($"{(int)r.StatusCode} {r.Content.Headers.ContentType} {await r.Content.ReadAsStringAsync()}");
    }
}
