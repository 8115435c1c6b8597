using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing.Patterns;
using OdooOps.Server;
using Yarp.ReverseProxy.Forwarder;

namespace OdooOps.Instances.Proxy;

/// <summary>
/// Requests for an instance's name never reach OdooOps' own endpoints: this runs right after the forwarded headers and
/// the request telemetry, before the security headers, authentication, body limits and every endpoint, and answers the
/// request itself — forwarded to the branch's current instance, or one of <see cref="InstancePages"/>. So /app or
/// /api under an instance's name are the instance's, the console's cookies and headers are never involved, and Odoo
/// sets its own headers. Only the console's names (<see cref="InstanceHosts"/>) go on down the pipeline.
/// </summary>
internal sealed class InstanceProxy(InstanceProxySettings settings, InstanceRoutes routes, IHttpForwarder forwarder, ILogger<InstanceProxy> log)
{
    /// <summary>What the request telemetry names proxied requests (one series for all instances, no host or path).</summary>
    public const string RouteName = "instance-proxy";

    static readonly RouteEndpoint Endpoint = new(_ => Task.CompletedTask, RoutePatternFactory.Parse(RouteName), 0, null, "Instance proxy");

    readonly HttpMessageInvoker _client = InstanceForwarding.CreateClient();

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var target = InstanceHosts.Classify(context.Request.Host.Host, settings);
        if (target is InstanceHosts.Console) { await next(context); return; }

        InstanceRoute? route;
        try
        {
            route = await routes.ResolveAsync(target, context.RequestAborted);
        }
        catch (Exception e) when (DatabaseErrorHandler.IsUnavailable(e))
        {
            context.SetEndpoint(Endpoint);
            await InstancePages.WriteAsync(context, InstancePages.LookupUnavailable());
            return;
        }
        // A name nobody claimed, outside our domain, with no public URL to tell the console's names: the console's.
        if (route is null && target is InstanceHosts.CustomDomain { Strict: false }) { await next(context); return; }

        context.SetEndpoint(Endpoint);
        var host = target is InstanceHosts.InstanceName n ? n.Host : ((InstanceHosts.CustomDomain)target).Host;
        if (route is null) { await InstancePages.WriteAsync(context, InstancePages.NotFound(host)); return; }
        if (!route.Verified) { await InstancePages.WriteAsync(context, InstancePages.NotVerified(host)); return; }
        if (route.InstanceId is null) { await InstancePages.WriteAsync(context, InstancePages.NoInstance()); return; }
        if (InstancePages.ForState(route.State, route.Reason) is { } page) { await InstancePages.WriteAsync(context, page); return; }
        var port = InstanceForwarding.IsGeventPath(context.Request.Path) ? route.GeventPort ?? route.HttpPort : route.HttpPort;
        if (route.Address is null || port is null)
        {
            await InstancePages.WriteAsync(context, InstancePages.ForState("unknown", null)!);
            return;
        }
        await ForwardAsync(context, InstanceForwarding.Destination(route.Address, port.Value), route.InstanceId.Value);
    }

    async Task ForwardAsync(HttpContext context, string destination, Guid instanceId)
    {
        // Odoo takes uploads (attachments, imports, module zips): the console's 16 KiB anonymous cap does not apply here,
        // and Kestrel's default (30 MB) gives way to OPS_INSTANCES_MAX_BODY_MB.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = settings.MaxBodyBytes;
        var error = await forwarder.SendAsync(context, destination, _client, InstanceForwarding.RequestConfig, InstanceForwarding.Transformer.Instance);
        if (error == ForwarderError.None || context.Response.HasStarted) return;
        var exception = context.GetForwarderErrorFeature()?.Exception;
        switch (error)
        {
            case ForwarderError.Request or ForwarderError.RequestCreation:
                log.LogWarning("Instance {InstanceId} did not answer: {Message}", instanceId, exception?.Message);
                context.Response.Clear();
                await InstancePages.WriteAsync(context, InstancePages.Unreachable("The instance is expected to be running, but its server did not take the request."));
                break;
            case ForwarderError.RequestTimedOut:
                context.Response.Clear();
                await InstancePages.WriteAsync(context, InstancePages.TimedOut());
                break;
            // The client went away or sent a broken body: YARP's status stands, nobody reads a page.
        }
    }
}

internal static class InstanceProxySetup
{
    public static IServiceCollection AddInstanceProxy(this IServiceCollection services, IConfiguration config, WebSettings web)
    {
        services.AddHttpForwarder();
        // The proxy logs an instance that does not answer in one line of its own; YARP would add a stack trace per request.
        services.AddLogging(b => b.AddFilter("Yarp.ReverseProxy", LogLevel.Error));
        services.AddSingleton(InstanceProxySettings.From(config, web));
        services.AddSingleton<InstanceRoutes>();
        services.AddSingleton<InstanceProxy>();
        return services;
    }

    /// <summary>After the forwarded headers (the client's address and scheme) and the telemetry; before everything else.</summary>
    public static IApplicationBuilder UseInstanceProxy(this IApplicationBuilder app)
    {
        var proxy = app.ApplicationServices.GetRequiredService<InstanceProxy>();
        return app.Use(next => context => proxy.InvokeAsync(context, next));
    }
}
