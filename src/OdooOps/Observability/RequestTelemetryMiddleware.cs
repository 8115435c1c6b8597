using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace OdooOps.Observability;

/// <summary>
/// Times every request, counts it in <see cref="HttpMetrics"/> and writes one structured log line. It runs first in
/// the pipeline, so the status it sees is the final one (after the exception handler turned a crash into a 500).
/// The log names the route pattern, never the path or query string (tokens may travel there), and never headers
/// or bodies, so Authorization, cookies and passwords cannot reach the log.
/// </summary>
internal sealed partial class RequestTelemetryMiddleware(RequestDelegate next, HttpMetrics metrics, ILoggerFactory loggers)
{
    public const string LogCategory = "OdooOps.Requests";
    public const int RequestEventId = 1100;

    readonly ILogger _log = loggers.CreateLogger(LogCategory);

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        var crashed = true;
        try
        {
            await next(context);
            crashed = false;
        }
        finally
        {
            var elapsed = Stopwatch.GetTimestamp() - start;
            // An exception that escaped every handler ends as a 500 from the server, whatever the status said so far.
            var status = crashed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            var route = RouteOf(context);
            metrics.Record(route, context.Request.Method, status, elapsed);
            RequestCompleted(_log, context.Request.Method, route, status, Math.Round(elapsed * 1000.0 / Stopwatch.Frequency, 2));
        }
    }

    /// <summary>The endpoint's pattern; the exception handler clears the endpoint but keeps it in its feature.</summary>
    static string RouteOf(HttpContext context)
    {
        var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
        return (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? HttpMetrics.Unmatched;
    }

    // Source-generated: no formatting or boxing unless Information is enabled for the category.
    [LoggerMessage(EventId = RequestEventId, EventName = "RequestCompleted", Level = LogLevel.Information,
        Message = "HTTP {method} {route} responded {status} in {duration_ms} ms")]
    static partial void RequestCompleted(ILogger logger, string method, string route, int status, double duration_ms);
}
