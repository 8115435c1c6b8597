using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace OdooOps.Instances.Proxy;

/// <summary>
/// The proxy's own answers, in HTML for the people who open an instance's address: nobody owns the name (404), the
/// instance is starting, stopped or unhealthy (503), failed or out of reach (502), or answered nothing (502, 504).
/// They name the state and the runner's reason, never an address or port of ours (addresses in a reason are masked),
/// and carry headers of their own: the console's do not apply under an instance's name.
/// </summary>
internal static partial class InstancePages
{
    public sealed record Page(int Status, string Title, string Message, string? State = null, string? Reason = null, int? RetryAfter = null);

    public static Page NotFound(string host) =>
        new(404, "No instance here", $"Nothing is served at {host}. Check the address, or the project's domains in OdooOps.");

    public static Page NotVerified(string host) =>
        new(404, "No instance here", $"{host} is not verified yet: point it at this server, then check it on the project's Domains page.");

    public static Page NoInstance() =>
        new(404, "No instance here", "This branch has no instance yet: it gets one when a build of it succeeds.");

    public static Page Unreachable(string detail) => new(502, "The instance did not answer", detail, RetryAfter: 5);

    public static Page TimedOut() => new(504, "The instance did not answer in time", "The instance took too long to answer; try again.");

    public static Page LookupUnavailable() =>
        new(503, "Temporarily unavailable", "This server cannot look the address up right now; try again in a few seconds.", RetryAfter: 5);

    /// <summary>The page of an instance that is not running (null: it is, forward the request).</summary>
    public static Page? ForState(string? state, string? reason) => state switch
    {
        "running" => null,
        "starting" => new(503, "Starting", "This instance is starting; this page reloads by itself.", state, reason, 5),
        "stopping" => new(503, "Stopping", "This instance is stopping.", state, reason, 10),
        "unhealthy" => new(503, "Not healthy", "This instance is running but does not answer its health check.", state, reason, 10),
        "stopped" => new(503, "Stopped", "This instance is stopped. Its project's members can start it in OdooOps.", state, reason),
        "failed" => new(502, "Failed", "This instance failed and is not restarted any more. Its project's members can see why in OdooOps.", state, reason),
        _ => new(502, "Out of reach", "The host running this instance has not reported for a while.", state ?? "unknown", reason),
    };

    public static async Task WriteAsync(HttpContext context, Page page)
    {
        var response = context.Response;
        response.StatusCode = page.Status;
        response.ContentType = "text/html; charset=utf-8";
        var headers = response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        if (page.RetryAfter is { } seconds) headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await response.WriteAsync(Html(page), context.RequestAborted);
    }

    public static string Html(Page page)
    {
        var refresh = page.State == "starting" ? """<meta http-equiv="refresh" content="5">""" : "";
        var state = page.State is null ? "" : $"""<p class="state">State: <b data-state="{E(page.State)}">{E(page.State)}</b></p>""";
        var reason = string.IsNullOrWhiteSpace(page.Reason) ? "" : $"""<p class="reason">{E(Masked(page.Reason))}</p>""";
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{{refresh}}
            <title>{{page.Status}} {{E(page.Title)}}</title>
            <style>body{font:16px/1.5 system-ui,sans-serif;color:#1f2937;background:#f8fafc;margin:0;display:grid;place-items:center;min-height:100vh}
            main{max-width:36rem;margin:1rem;padding:2rem;background:#fff;border:1px solid #e5e7eb;border-radius:12px}
            h1{font-size:1.4rem;margin:0 0 .5rem}.code{color:#6b7280;font-size:.9rem}.reason{font-family:ui-monospace,monospace;font-size:.85rem;
            background:#f3f4f6;padding:.5rem .75rem;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}</style></head>
            <body><main><p class="code">{{page.Status}}</p><h1>{{E(page.Title)}}</h1><p>{{E(page.Message)}}</p>{{state}}{{reason}}</main></body></html>
            """;
    }

    /// <summary>A runner's reason without addresses or ports of the hosts behind the proxy, and not too long.</summary>
    public static string Masked(string reason)
    {
        var masked = Address().Replace(reason, "[address]");
        return masked.Length <= 300 ? masked : masked[..300] + "…";
    }

    static string E(string text) => WebUtility.HtmlEncode(text);

    // URLs' authorities, IPv4 and bracketed IPv6 addresses and localhost, each with its port if any.
    [GeneratedRegex(@"[a-z][a-z0-9+.-]*://[^/\s]+|(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]|localhost)(?::\d{1,5})?", RegexOptions.IgnoreCase)]
    private static partial Regex Address();
}
