using System.Net;
using Microsoft.Extensions.Logging;
using OdooOps.Observability;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Observability;

/// <summary>One structured log line per request, and never a secret from the Authorization header or the query string.</summary>
public sealed class RequestLogTests(PostgresCluster cluster)
{
    const string Secret = "SECRETvalue42";

    [Fact]
    public async Task Logs_each_request_once_with_its_fields_and_never_a_token()
    {
        await using var server = await ObservedServer.StartAsync(cluster, "reqlog");
        var client = server.Client;

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/ops/projects?token={Secret}&password={Secret}");
        request.Headers.Authorization = new("Bearer", "oo_pat_" + Secret);
        request.Headers.Add("Cookie", $"odooops_session={Secret}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/healthz?token={Secret}")).StatusCode);
        await server.StopAsync();

        Assert.NotEmpty(server.Logs.Entries);
        Assert.All(server.Logs.Entries, e => Assert.DoesNotContain(Secret, e.AllText));

        var requests = server.Logs.Entries.Where(e => e.EventId.Id == RequestTelemetryMiddleware.RequestEventId).ToList();
        Assert.Equal(2, requests.Count);
        var denied = requests.Single(e => (string?)e.Field("route") == "/api/ops/projects/");
        Assert.Equal(RequestTelemetryMiddleware.LogCategory, denied.Category);
        Assert.Equal(LogLevel.Information, denied.Level);
        Assert.Equal("GET", denied.Field("method"));
        Assert.Equal(401, denied.Field("status"));
        Assert.IsType<double>(denied.Field("duration_ms"));
        Assert.Equal(200, requests.Single(e => (string?)e.Field("route") == "/healthz").Field("status"));
    }
}
