using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OdooOps.Cli;

/// <summary>An API answer that is not a success, already worded for a one-line CLI error.</summary>
internal sealed class ApiException(HttpStatusCode? status, string message) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// The CLI's typed client of /api/ops: bearer token, snake_case JSON, redirects not followed (doctor inspects them).
/// Failures become <see cref="ApiException"/> with the ProblemDetails' title, detail and field errors in one line.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    readonly HttpClient _http;
    readonly AuthenticationHeaderValue? _authorization;

    public string BaseUrl { get; }
    public bool HasToken { get; }

    public ApiClient(string baseUrl, string? token, TimeSpan? timeout = null)
    {
        BaseUrl = ClientConfig.Normalize(baseUrl);
        HasToken = !string.IsNullOrEmpty(token);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri(BaseUrl + "/"),
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("odooops-cli", typeof(ApiClient).Assembly.GetName().Version?.ToString(3)));
        if (HasToken) _authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The client the project/branch verbs use: configured URL and token, or "not signed in".</summary>
    /// <param name="timeout">Per request (default 30 s); transfers of files pass <see cref="Timeout.InfiniteTimeSpan"/> and bound them with their token.</param>
    public static ApiClient FromConfig(TimeSpan? timeout = null)
    {
        var settings = ClientConfig.Resolve();
        if (settings.Token is null) throw new ApiException(HttpStatusCode.Unauthorized, NotSignedIn);
        return new ApiClient(settings.Url, settings.Token, timeout);
    }

    public const string NotSignedIn = "not signed in: run odooops login";

    public Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, anonymous: false, ct);

    public Task<T> PostAsync<T>(string path, object body, CancellationToken ct, bool anonymous = false) =>
        SendAsync<T>(HttpMethod.Post, path, body, anonymous, ct);

    public Task<T> PutAsync<T>(string path, object body, CancellationToken ct) => SendAsync<T>(HttpMethod.Put, path, body, anonymous: false, ct);

    public Task DeleteAsync(string path, CancellationToken ct) => NoAnswerAsync(HttpMethod.Delete, path, null, ct);

    /// <summary>A POST whose success has no body (204).</summary>
    public Task PostAsync(string path, object body, CancellationToken ct) => NoAnswerAsync(HttpMethod.Post, path, body, ct);

    async Task NoAnswerAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await RawAsync(method, path, body, ct);
        await EnsureSuccessAsync(response, anonymous: false, ct);
    }

    /// <summary>A POST of a body the caller streams (a file), answered with JSON.</summary>
    public async Task<T> PostContentAsync<T>(string path, HttpContent content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = content };
        request.Headers.Authorization = _authorization;
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ApiException(null, $"cannot reach {BaseUrl}: {e.InnerException?.Message ?? e.Message}");
        }
        using (response)
        {
            await EnsureSuccessAsync(response, anonymous: false, ct);
            return await response.Content.ReadFromJsonAsync<T>(Json, ct)
                   ?? throw new ApiException(response.StatusCode, $"POST {path} answered with an empty body");
        }
    }

    /// <summary>A request whose answer the caller judges itself (doctor): only transport failures throw.</summary>
    public async Task<HttpResponseMessage> RawAsync(HttpMethod method, string path, object? body, CancellationToken ct, bool withToken = true)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        if (withToken) request.Headers.Authorization = _authorization;
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ApiException(null, $"cannot reach {BaseUrl}: {e.InnerException?.Message ?? e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(null, $"{BaseUrl} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// A GET whose body is read as it arrives (Server-Sent Events): returns once the headers are in, and the
    /// client's timeout does not cover the body. Failures throw as for any other call.
    /// </summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, string accept, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.Authorization = _authorization;
        request.Headers.Accept.ParseAdd(accept);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ApiException(null, $"cannot reach {BaseUrl}: {e.InnerException?.Message ?? e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(null, $"{BaseUrl} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
        try
        {
            await EnsureSuccessAsync(response, anonymous: false, ct);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, bool anonymous, CancellationToken ct)
    {
        using var response = await RawAsync(method, path, body, ct, withToken: !anonymous);
        await EnsureSuccessAsync(response, anonymous, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
               ?? throw new ApiException(response.StatusCode, $"{method} {path} answered with an empty body");
    }

    async Task EnsureSuccessAsync(HttpResponseMessage response, bool anonymous, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        // An anonymous call (password sign-in) reports the server's own words: "Wrong email or password."
        if (response.StatusCode == HttpStatusCode.Unauthorized && !anonymous)
            throw new ApiException(response.StatusCode, NotSignedIn);
        throw new ApiException(response.StatusCode, await DescribeAsync(response, ct));
    }

    /// <summary>"title: detail" or the field errors ("slug: … already used"), else the status line.</summary>
    public static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var fallback = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".Trim();
        if (response.Content.Headers.ContentType?.MediaType is not ("application/problem+json" or "application/json")) return fallback;
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<Problem>(Json, ct);
            if (problem is null) return fallback;
            if (problem.Errors is { Count: > 0 } errors)
                return string.Join("; ", errors.SelectMany(e => e.Value.Select(m => m.StartsWith(e.Key, StringComparison.Ordinal) ? m : $"{e.Key}: {m}")));
            var parts = new[] { problem.Title, problem.Detail }.Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
            return parts.Count > 0 ? string.Join(": ", parts).ReplaceLineEndings(" ") : fallback;
        }
        catch (JsonException) { return fallback; }
    }

    sealed record Problem(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors);

    public void Dispose() => _http.Dispose();
}
