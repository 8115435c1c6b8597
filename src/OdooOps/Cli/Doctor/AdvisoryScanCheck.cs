using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using OdooOps.Advisories;
using OdooOps.Configuration;
using OdooOps.Secrets;
using static OdooOps.Cli.Doctor.DoctorChecks;

namespace OdooOps.Cli.Doctor;

/// <summary>
/// The "Advisory scan" row of `odooops doctor`, checked the way cron calls the function. A wrong token must get a 401
/// (a scan anyone could trigger would be a hole). Then, when OPS_ADVISORY_SCAN_TOKEN is known here — configuration,
/// else the data dir's secrets file, as `serve` resolves it — one real scan must answer 200 with advisories_created.
/// That scan is what the scheduler or cron runs anyway: it refreshes and resolves advisories and deletes nothing. A
/// rule that could not run fails the row, because an unavailable rule is not a clean one.
/// </summary>
internal static class AdvisoryScanCheck
{
    const string Name = "Advisory scan";

    public static Task<Row> RunAsync(string url, IConfiguration config, CancellationToken ct) =>
        FunctionProbe.RunAsync(Name, url, AdvisoryScanApi.Route, AdvisoryScanApi.TokenHeader, TimeSpan.FromSeconds(60), async probe =>
        {
            var route = probe.Route;
            if (await probe.WrongTokenFailureAsync(Name, null, ct) is { } refused) return refused;
            if (SecretsSetup.Value(config, OpsSecrets.AdvisoryScanToken) is not { } secret)
                return new(Name, Outcome.Pass, $"POST {route} refuses a wrong token (401); {OpsSecrets.AdvisoryScanToken} is not set here, so no scan was run");
            using var real = await probe.PostAsync(secret, null, ct);
            if (real.StatusCode == HttpStatusCode.Unauthorized)
                return new(Name, Outcome.Fail, $"POST {route} refused this machine's {OpsSecrets.AdvisoryScanToken}: it differs from the server's");
            if (real.StatusCode != HttpStatusCode.OK)
                return new(Name, Outcome.Fail, $"POST {route} answered {(int)real.StatusCode}: {await ApiClient.DescribeAsync(real, ct)}");
            var answer = await real.Content.ReadFromJsonAsync<AdvisoryScanApi.ScanAnswer>(ApiClient.Json, ct);
            if (answer is null) return new(Name, Outcome.Fail, $"POST {route} answered 200 without a body");
            var summary = $"POST {route} refuses a wrong token (401) and scanned {answer.ProjectsScanned} project(s): "
                          + $"{answer.AdvisoriesCreated} advisory(ies) created, {answer.AdvisoriesResolved} resolved";
            return answer.Unavailable is { Count: > 0 } unavailable
                ? new(Name, Outcome.Fail, $"{summary}; could not run: {string.Join(", ", unavailable)} (see the server log)")
                : new(Name, Outcome.Pass, summary);
        }, ct);
}
