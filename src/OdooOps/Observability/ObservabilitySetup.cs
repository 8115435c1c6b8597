namespace OdooOps.Observability;

/// <summary>The server's wiring for metrics and request logs (called from ServerApp).</summary>
internal static class ObservabilitySetup
{
    public const string MetricsPath = "/metrics";

    public static IServiceCollection AddOpsObservability(this IServiceCollection services) =>
        services.AddSingleton<HttpMetrics>().AddSingleton<DbPoolMetrics>();

    /// <summary>Call first, before the exception handler, so every request is timed and its final status counted.</summary>
    public static IApplicationBuilder UseOpsObservability(this IApplicationBuilder app) =>
        app.UseMiddleware<RequestTelemetryMiddleware>();

    /// <summary>
    /// GET /metrics for Prometheus, anonymous like /healthz: it shows route patterns and counts, never ids, users,
    /// hosts or secrets. Keep it off the public internet by the usual means (listen address, proxy rules).
    /// </summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet(MetricsPath, (HttpMetrics http, DbPoolMetrics pools) =>
                TypedResults.Text(PrometheusText.Render(http, pools), PrometheusText.ContentType))
            .ExcludeFromDescription();
        return app;
    }
}
