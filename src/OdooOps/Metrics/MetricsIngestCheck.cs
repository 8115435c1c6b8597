using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using OdooOps.Cli;
using OdooOps.Secrets;
using static OdooOps.Cli.DoctorChecks;

namespace OdooOps.Metrics;

/// <summary>
/// The "Metrics ingest" row of `odooops doctor`, checked without storing anything: a wrong token must get 401, and
/// with this machine's OPS_INGEST_TOKEN a batch for a project that cannot exist must get 404 — the token was
/// accepted and the body validated, yet no sample was written.
/// </summary>
public static class MetricsIngestCheck
{
    const string Name = "Metrics ingest";

    public static async Task<Row> RunAsync(string url, IConfiguration config, CancellationToken ct)
    {
        var route = MetricsIngestApi.Route;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(ClientConfig.Normalize(url) + "/"), Timeout = TimeSpan.FromSeconds(30) };
            using (var wrong = await PostAsync(http, $"doctor-wrong-{OpsSecrets.Generate()}", ct))
                if (wrong.StatusCode != HttpStatusCode.Unauthorized)
                    return new(Name, Outcome.Fail, $"POST {route} with a wrong token answered {(int)wrong.StatusCode}, expected 401");
            if (SecretsSetup.Value(config, OpsSecrets.IngestToken) is not { } token)
                return new(Name, Outcome.Pass, $"POST {route} refuses a wrong token (401); {OpsSecrets.IngestToken} is not set here, so the token was not tried");
            using var real = await PostAsync(http, token, ct);
            return real.StatusCode switch
            {
                HttpStatusCode.NotFound => new(Name, Outcome.Pass, $"POST {route} refuses a wrong token (401), accepts {OpsSecrets.IngestToken} and validates (404 for an unknown project)"),
                HttpStatusCode.Unauthorized => new(Name, Outcome.Fail, $"POST {route} refused this machine's {OpsSecrets.IngestToken}: it differs from the server's"),
                var other => new(Name, Outcome.Fail, $"POST {route} answered {(int)other}: {await ApiClient.DescribeAsync(real, ct)}"),
            };
        }
        catch (HttpRequestException e) { return new(Name, Outcome.Fail, $"cannot reach {url}: {e.InnerException?.Message ?? e.Message}"); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return new(Name, Outcome.Fail, $"POST {route} did not answer within 30 s"); }
    }

    static async Task<HttpResponseMessage> PostAsync(HttpClient http, string token, CancellationToken ct)
    {
        var body = $$"""{"project_id": "{{Guid.Empty}}", "ts": "{{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ}}", "samples": [{"metric": "doctor_probe", "value": 1}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, MetricsIngestApi.Route.TrimStart('/'))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(MetricsIngestApi.TokenHeader, token);
        return await http.SendAsync(request, ct);
    }
}
