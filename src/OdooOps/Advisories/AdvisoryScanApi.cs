using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Secrets;

namespace OdooOps.Advisories;

/// <summary>
/// POST /functions/v1/ops-advisory-scan — the seed's function (step 4: `{"advisories_created": N}`), for cron and
/// schedulers. Anonymous to ASP.NET Core: the caller presents OPS_ADVISORY_SCAN_TOKEN in x-ops-advisory-token,
/// checked in constant time before anything else is read; a missing or wrong token gets the same 401. The body is
/// optional — none at all (the seed's curl, with or without a content-type) scans every project, and
/// `{"project_id": "…"}` scans one.
/// </summary>
internal static class AdvisoryScanApi
{
    public const string Route = "/functions/v1/ops-advisory-scan";
    public const string TokenHeader = "x-ops-advisory-token";
    const int MaxBodyBytes = 4096;

    public sealed record ScanAnswer(
        [property: JsonPropertyName("advisories_created")] int AdvisoriesCreated,
        [property: JsonPropertyName("advisories_resolved")] int AdvisoriesResolved,
        [property: JsonPropertyName("projects_scanned")] int ProjectsScanned,
        [property: JsonPropertyName("unavailable"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Unavailable = null);

    public static IEndpointRouteBuilder MapAdvisoryScanApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Route, Scan)
            .AllowAnonymous()
            .WithTags("Functions")
            .WithSummary("Run the advisory rules over every project, or one (header x-ops-advisory-token: OPS_ADVISORY_SCAN_TOKEN)")
            // No Accepts<…>: routing would then refuse an empty POST that carries another content type
            // (curl -d '' sends a form type), and an empty body must always work.
            .WithDescription("""Optional body, as application/json: {"project_id": "…"} scans that project alone. No body (whatever the content type) scans every project and the OdooOps system project.""")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    static async Task<Results<Ok<ScanAnswer>, ValidationProblem, ProblemHttpResult>> Scan(
        HttpRequest request, OpsSecrets secrets, AdvisoryScanner scanner, CancellationToken ct)
    {
        if (!secrets.Matches(OpsSecrets.AdvisoryScanToken, request.Headers[TokenHeader].ToString()))
            return TypedResults.Problem($"Send the advisory scan token in the {TokenHeader} header.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");

        var body = await ReadBodyAsync(request, ct);
        if (body is null) return TypedResults.ValidationProblem(Error("body", $"The body may be at most {MaxBodyBytes} bytes."));
        Guid? projectId = null;
        if (!body.Value.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            if (!request.HasJsonContentType())
                return TypedResults.Problem("Send the body as JSON with content-type: application/json, or send no body.",
                    statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
            if (ParseProjectId(body.Value, out projectId) is { } errors) return TypedResults.ValidationProblem(errors);
        }

        var outcome = await scanner.ScanAsync(projectId, ct);
        if (projectId is not null && outcome.ProjectsScanned == 0)
            return TypedResults.Problem("No project with this id, or it is archived.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        return TypedResults.Ok(new ScanAnswer(outcome.AdvisoriesCreated, outcome.AdvisoriesResolved, outcome.ProjectsScanned,
            outcome.Unavailable.Count > 0 ? outcome.Unavailable : null));
    }

    /// <summary>The whole body, or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += read;
        return length > MaxBodyBytes ? null : buffer.AsMemory(0, length);
    }

    /// <summary>A JSON object whose project_id is null or absent (all projects) or a uuid; field errors otherwise.</summary>
    static Dictionary<string, string[]>? ParseProjectId(ReadOnlyMemory<byte> body, out Guid? projectId)
    {
        projectId = null;
        const string notAnObject = """The body must be a JSON object such as {"project_id": "…"}, or empty.""";
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object) return Error("body", notAnObject);
            if (!json.RootElement.TryGetProperty("project_id", out var id) || id.ValueKind == JsonValueKind.Null) return null;
            if (id.ValueKind == JsonValueKind.String && id.TryGetGuid(out var parsed)) { projectId = parsed; return null; }
            return Error("project_id", "project_id must be a project's id (a uuid).");
        }
        catch (JsonException) { return Error("body", notAnObject); }
    }

    static Dictionary<string, string[]> Error(string field, string message) => new() { [field] = [message] };
}
