using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OdooOps.Observability;
using OdooOps.Server;

namespace OdooOps.Tests.Observability;

/// <summary>How the telemetry middleware counts failures and keeps label values bounded and well-formed.</summary>
public sealed class RequestMetricsTests
{
    [Fact]
    public async Task A_crash_that_escapes_is_counted_as_a_5xx_error_of_its_route()
    {
        var metrics = new HttpMetrics();
        var capture = new LogCapture();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Information));
        var middleware = new RequestTelemetryMiddleware(_ => throw new InvalidOperationException("boom"), metrics, loggers);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/api/ops/things/{id}"),
            0, null, "things"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.InvokeAsync(context));

        using var pools = new DbPoolMetrics();
        var text = PrometheusText.Render(metrics, pools);
        Assert.Contains("odooops_http_errors_total{route=\"/api/ops/things/{id}\",method=\"POST\"} 1\n", text);
        Assert.Contains("odooops_http_requests_total{route=\"/api/ops/things/{id}\",method=\"POST\",status_class=\"5xx\"} 1\n", text);
        Assert.Equal(500, capture.Entries.Single(e => e.EventId.Id == RequestTelemetryMiddleware.RequestEventId).Field("status"));
    }

    [Fact]
    public async Task Behind_the_exception_handler_a_crash_is_a_5xx_error_and_a_handled_database_refusal_keeps_its_route()
    {
        // The same order as ServerApp: telemetry first, then the exception handler with the database error mapping.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddOpsObservability().AddProblemDetails().AddExceptionHandler<DatabaseErrorHandler>();
        await using var app = builder.Build();
        app.UseOpsObservability();
        app.UseExceptionHandler();
        app.MapPost("/things/{id}", (string id) => { throw new PostgresException("duplicate", "ERROR", "ERROR", "23505"); });
        app.MapGet("/crash", () => { throw new InvalidOperationException("boom"); });
        app.MapMetrics();
        await app.StartAsync();
        using var client = app.GetTestClient();

        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/things/7", null)).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await client.GetAsync("/crash")).StatusCode);
        var text = await client.GetStringAsync("/metrics");
        Assert.Contains("odooops_http_requests_total{route=\"/things/{id}\",method=\"POST\",status_class=\"4xx\"} 1\n", text);
        Assert.Contains("odooops_http_errors_total{route=\"/crash\",method=\"GET\"} 1\n", text);
        Assert.DoesNotContain("odooops_http_errors_total{route=\"/things", text);
    }

    [Fact]
    public void Unknown_methods_share_one_label_and_label_values_are_escaped()
    {
        var metrics = new HttpMetrics();
        metrics.Record("/a\"b\\c", "BREW", 200, 1);
        metrics.Record("/a\"b\\c", "PURGE", 200, 1);
        using var pools = new DbPoolMetrics();
        var text = PrometheusText.Render(metrics, pools);
        Assert.Contains("odooops_http_requests_total{route=\"/a\\\"b\\\\c\",method=\"OTHER\",status_class=\"2xx\"} 2\n", text);
        Assert.DoesNotContain("BREW", text);
    }
}
