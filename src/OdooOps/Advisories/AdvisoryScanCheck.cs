using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using OdooOps.Cli;
using OdooOps.Configuration;
using OdooOps.Secrets;
using static OdooOps.Cli.DoctorChecks;

namespace OdooOps.Advisories;

/// <summary>
/// The "Advisory scan" row of `odooops doctor`, checked the way cron calls the function. A wrong token must get a 401
/// (a scan anyone could trigger would be a hole). Then, when OPS_ADVISORY_SCAN_TOKEN is known here — configuration,
/// else the data dir's secrets file, as `serve` resolves it — one real scan must answer 200 with advisories_created.
/// That scan is what the scheduler or cron runs anyway: it refreshes and resolves advisories and deletes nothing. A
/// rule that could not run fails the row, because an unavailable rule is not a clean one.
/// </summary>
public static class AdvisoryScanCheck
{
    const string Name = "Advisory scan";

    public static async Task<Row> RunAsync(string url, IConfiguration config, CancellationToken ct)
    {
        var route = AdvisoryScanApi.Route;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(ClientConfig.Normalize(url) + "/"), Timeout = TimeSpan.FromSeconds(60) };
            using (var wrong = await PostAsync(http, $"doctor-wrong-{OpsSecrets.Generate()}", ct))
                if (wrong.StatusCode != HttpStatusCode.Unauthorized)
                    return new(Name, Outcome.Fail, $"POST {route} with a wrong token answered {(int)wrong.StatusCode}, expected 401");

            if (SecretsSetup.Value(config, OpsSecrets.AdvisoryScanToken) is not { } secret)
                return new(Name, Outcome.Pass, $"POST {route} refuses a wrong token (401); {OpsSecrets.AdvisoryScanToken} is not set here, so no scan was run");
            using var real = await PostAsync(http, secret, ct);
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
        }
        catch (HttpRequestException e) { return new(Name, Outcome.Fail, $"cannot reach {url}: {e.InnerException?.Message ?? e.Message}"); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return new(Name, Outcome.Fail, $"POST {route} did not answer within 60 s"); }
    }

    static async Task<HttpResponseMessage> PostAsync(HttpClient http, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, AdvisoryScanApi.Route.TrimStart('/'));
        request.Headers.Add(AdvisoryScanApi.TokenHeader, token);
        return await http.SendAsync(request, ct);
    }

}
