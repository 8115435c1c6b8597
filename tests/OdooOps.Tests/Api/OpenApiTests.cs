using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace OdooOps.Tests.Api;

/// <summary>The OpenAPI document lists every endpoint; the API reference UI is served.</summary>
public sealed class OpenApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Document_names_every_api_endpoint_and_the_reference_ui_is_served()
    {
        var client = world.Client(null);
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        var endpoints = world.Factory.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/ops") == true || e.RoutePattern.RawText?.StartsWith("/hooks/") == true)
            .ToList();
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} endpoints");
        foreach (var e in endpoints)
        {
            var template = "/" + string.Join('/', e.RoutePattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p =>
                p is Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart param ? $"{{{param.Name}}}" : ((Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart)p).Content))));
            Assert.True(paths.TryGetProperty(template, out var item) || paths.TryGetProperty(template + "/", out item), $"{template} missing from the OpenAPI document");
            var method = e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods[0].ToLowerInvariant();
            Assert.True(item.TryGetProperty(method, out var operation), $"{method} {template} missing");
            var responses = operation.GetProperty("responses");
            Assert.True(responses.TryGetProperty("401", out var unauthorized), $"{method} {template} documents no 401");
            Assert.Contains("application/problem+json", unauthorized.GetProperty("content").EnumerateObject().Select(c => c.Name));
        }
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/hooks/github/{project:guid}");
        Assert.True(doc.RootElement.GetProperty("components").GetProperty("schemas").TryGetProperty("ProjectSummary", out var summary));
        Assert.True(summary.GetProperty("properties").TryGetProperty("production_branch", out _));

        var ui = await world.Factory.CreateClient().GetAsync("/docs/api"); // follows Scalar's redirect to its document page
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("OdooOps API", await ui.Content.ReadAsStringAsync());
    }
}
