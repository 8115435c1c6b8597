using System.Net;
using System.Text;
using static OdooOps.Cli.Doctor.DoctorChecks;

namespace OdooOps.Cli.Doctor;

/// <summary>
/// What `doctor` does the same way for each of the specification's token-guarded functions: post to it, insist that
/// a wrong token is refused with 401, and turn an unreachable or silent server into a failed row.
/// </summary>
internal sealed class FunctionProbe(string url, string route, string tokenHeader, TimeSpan timeout) : IDisposable
{
    readonly HttpClient _http = new() { BaseAddress = new Uri(ClientConfig.Normalize(url) + "/"), Timeout = timeout };

    public string Route => route;

    public async Task<HttpResponseMessage> PostAsync(string token, string? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route.TrimStart('/'));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.Add(tokenHeader, token);
        return await _http.SendAsync(request, ct);
    }

    /// <summary>Null when a made-up token gets 401; otherwise the failed row saying what came back.</summary>
    public async Task<Row?> WrongTokenFailureAsync(string name, string? json, CancellationToken ct)
    {
        using var wrong = await PostAsync($"doctor-wrong-{Secrets.OpsSecrets.Generate()}", json, ct);
        return wrong.StatusCode == HttpStatusCode.Unauthorized
            ? null
            : new Row(name, Outcome.Fail, $"POST {route} with a wrong token answered {(int)wrong.StatusCode}, expected 401");
    }

    public static async Task<Row> RunAsync(string name, string url, string route, string tokenHeader, TimeSpan timeout,
        Func<FunctionProbe, Task<Row>> check, CancellationToken ct)
    {
        try
        {
            using var probe = new FunctionProbe(url, route, tokenHeader, timeout);
            return await check(probe);
        }
        catch (HttpRequestException e) { return new Row(name, Outcome.Fail, $"cannot reach {url}: {e.InnerException?.Message ?? e.Message}"); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Row(name, Outcome.Fail, $"POST {route} did not answer within {timeout.TotalSeconds:0} s");
        }
    }

    public void Dispose() => _http.Dispose();
}
