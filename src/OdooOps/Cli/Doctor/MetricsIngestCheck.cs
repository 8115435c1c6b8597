using System.Net;
using Microsoft.Extensions.Configuration;
using OdooOps.Metrics;
using OdooOps.Secrets;
using static OdooOps.Cli.Doctor.DoctorChecks;

namespace OdooOps.Cli.Doctor;

/// <summary>
/// The "Metrics ingest" row of `odooops doctor`, checked without storing anything: a wrong token must get 401, and
/// with this machine's OPS_INGEST_TOKEN a batch for a project that cannot exist must get 404 — the token was
/// accepted and the body validated, yet no sample was written.
/// </summary>
internal static class MetricsIngestCheck
{
    const string Name = "Metrics ingest";

    public static Task<Row> RunAsync(string url, IConfiguration config, CancellationToken ct) =>
        FunctionProbe.RunAsync(Name, url, MetricsIngestApi.Route, MetricsIngestApi.TokenHeader, TimeSpan.FromSeconds(30), async probe =>
        {
            var route = probe.Route;
            var body = $$"""{"project_id": "{{Guid.Empty}}", "ts": "{{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ}}", "samples": [{"metric": "doctor_probe", "value": 1}]}""";
            if (await probe.WrongTokenFailureAsync(Name, body, ct) is { } refused) return refused;
            if (SecretsSetup.Value(config, OpsSecrets.IngestToken) is not { } token)
                return new(Name, Outcome.Pass, $"POST {route} refuses a wrong token (401); {OpsSecrets.IngestToken} is not set here, so the token was not tried");
            using var real = await probe.PostAsync(token, body, ct);
            return real.StatusCode switch
            {
                HttpStatusCode.NotFound => new(Name, Outcome.Pass, $"POST {route} refuses a wrong token (401), accepts {OpsSecrets.IngestToken} and validates (404 for an unknown project)"),
                HttpStatusCode.Unauthorized => new(Name, Outcome.Fail, $"POST {route} refused this machine's {OpsSecrets.IngestToken}: it differs from the server's"),
                var other => new(Name, Outcome.Fail, $"POST {route} answered {(int)other}: {await ApiClient.DescribeAsync(real, ct)}"),
            };
        }, ct);
}
