namespace OdooOps.Webhooks;

/// <summary>
/// The git webhooks' configuration, read once when the endpoints are mapped so that a bad value stops `serve` at
/// start-up rather than failing hooks later. <see cref="CancelSupersededBuilds"/> (OPS_CANCEL_SUPERSEDED_BUILDS,
/// default true): a push cancels its branch's queued builds of other commits. <see cref="PublicUrl"/>
/// (OPS_PUBLIC_URL, optional): the address GitHub and GitLab reach this server at, when it is not the one requests
/// arrive with (a TLS-terminating proxy).
/// </summary>
internal sealed record WebhookSettings(bool CancelSupersededBuilds, Uri? PublicUrl)
{
    public const string CancelSupersededKey = "OPS_CANCEL_SUPERSEDED_BUILDS";
    public const string PublicUrlKey = "OPS_PUBLIC_URL";
    public const int MaxBodyBytes = 1 << 20;

    public static WebhookSettings From(IConfiguration config) => new(ReadFlag(config[CancelSupersededKey], true), ReadUrl(config[PublicUrlKey]));

    /// <summary>Where the hook URLs start: the configured public URL, else the scheme and host of this request.</summary>
    public string BaseUrl(HttpRequest request) =>
        PublicUrl is { } configured ? configured.AbsoluteUri.TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";

    static bool ReadFlag(string? raw, bool fallback) => raw?.Trim().ToLowerInvariant() switch
    {
        null or "" => fallback,
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new InvalidOperationException($"{CancelSupersededKey} must be true or false (got '{raw}')."),
    };

    static Uri? ReadUrl(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        if (Uri.TryCreate(raw.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.Query == "" && uri.Fragment == "")
            return uri;
        throw new InvalidOperationException($"{PublicUrlKey} must be an absolute http(s) URL without query, such as https://ops.example.com (got '{raw}').");
    }
}
