using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OdooOps.Metrics;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops metrics push`: sends one batch to the ingest endpoint, the same request a metrics agent (or the seed's
/// curl) sends. The token is the shared OPS_INGEST_TOKEN or a project's oo_ing_… token; prefer the environment to
/// --token, which other users can see in the process list. "Not now" answers are tried again a few times.
/// </summary>
internal static class MetricsCommand
{
    public const string TokenVariable = "OPS_INGEST_TOKEN";

    public static Command Create()
    {
        var metrics = new Command("metrics", "Send metric samples to an OdooOps server, or show a branch's metrics.");
        metrics.Add(Push());
        metrics.Add(MetricsShowCommand.Create());
        return metrics;
    }

    static Command Push()
    {
        var project = new Option<string>("--project") { Description = "The project's id.", Required = true };
        var metric = new Option<string[]>("--metric")
        {
            Description = "A sample as NAME=VALUE, such as cpu_pct=45.2; repeat for more.",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var branch = new Option<string?>("--branch") { Description = "The branch the samples belong to (default: the production branch)." };
        var ts = new Option<string?>("--ts") { Description = "When the samples were taken, ISO 8601 with an offset (default: now)." };
        var url = new Option<string?>("--url") { Description = $"The server (default: env {ClientConfig.UrlVariable}, else {ClientConfig.DefaultUrl})." };
        var token = new Option<string?>("--token") { Description = $"The ingest token (default: env {TokenVariable})." };
        var command = new Command("push", "Store samples for a project; prints how many were new (duplicates are skipped). Answers 503, 429, 502 and 504 are tried again 3 times (1, 2, 4 s, or the server's Retry-After up to 30 s).")
            { project, metric, branch, ts, url, token };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (!Guid.TryParse(parse.GetValue(project), out var projectId))
                throw new ArgumentException($"--project must be the project's id, a UUID (got '{parse.GetValue(project)}').");
            var samples = parse.GetValue(metric)!.Select(ParseSample).ToList();
            var at = parse.GetValue(ts);
            if (at is not null && !IngestTimestamp.TryParse(at, out _))
                throw new ArgumentException($"--ts must be {IngestTimestamp.Expected} (got '{at}').");
            var secret = FirstOf(parse.GetValue(token), Environment.GetEnvironmentVariable(TokenVariable))
                         ?? throw new ArgumentException($"No ingest token: pass --token or set {TokenVariable}.");
            var baseUrl = ClientConfig.Normalize(FirstOf(parse.GetValue(url), Environment.GetEnvironmentVariable(ClientConfig.UrlVariable)) ?? ClientConfig.DefaultUrl);

            var body = Body(projectId, at ?? IngestTimestamp.Format(DateTime.UtcNow), samples, parse.GetValue(branch));
            var inserted = await SendAsync(baseUrl, secret, body, ct);
            Console.WriteLine($"inserted {inserted}");
            return 0;
        }));
        return command;
    }

    static (string Name, double Value) ParseSample(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0 || !double.TryParse(text.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            throw new ArgumentException($"--metric expects NAME=NUMBER, such as cpu_pct=45.2 (got '{text}').");
        return (text[..eq], value);
    }

    /// <summary>The seed's body: {"project_id", "ts", "samples": [{"metric", "value"[, "branch"]}]}.</summary>
    static byte[] Body(Guid projectId, string ts, IReadOnlyList<(string Name, double Value)> samples, string? branch)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("project_id", projectId);
            json.WriteString("ts", ts);
            json.WriteStartArray("samples");
            foreach (var (name, value) in samples)
            {
                json.WriteStartObject();
                json.WriteString("metric", name);
                json.WriteNumber("value", value);
                if (branch is not null) json.WriteString("branch", branch);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>
    /// Waits before the tries after a "not now" answer (503 while the server's database is down, 429, a proxy's 502 or
    /// 504): the answer's Retry-After when longer, up to <see cref="MaxRetryAfter"/>. A repeated batch is safe: samples
    /// already stored are skipped, not counted twice.
    /// </summary>
    static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];
    static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    static async Task<int> SendAsync(string baseUrl, string token, byte[] body, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + MetricsIngestApi.Route) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add(MetricsIngestApi.TokenHeader, token);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, ct);
            }
            catch (HttpRequestException e)
            {
                throw new ApiException(null, $"cannot reach {baseUrl}: {e.InnerException?.Message ?? e.Message}");
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ApiException(null, $"{baseUrl} did not answer within {http.Timeout.TotalSeconds:0} s");
            }
            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    using var answer = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct));
                    return answer.RootElement.GetProperty("inserted").GetInt32();
                }
                var temporary = response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests
                    or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout;
                if (!temporary) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
                if (attempt == RetryDelays.Length)
                    throw new ApiException(response.StatusCode, $"{await ApiClient.DescribeAsync(response, ct)} (gave up after {attempt + 1} tries)");
                await Task.Delay(RetryAfter.Next(RetryDelays[attempt], RetryAfter.Of(response), MaxRetryAfter), ct);
            }
        }
    }

    static string? FirstOf(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
