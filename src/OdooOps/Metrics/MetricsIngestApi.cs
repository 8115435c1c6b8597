using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Npgsql;
using OdooOps.Database;
using OdooOps.Secrets;
using OdooOps.Server;

namespace OdooOps.Metrics;

/// <summary>
/// POST /functions/v1/ops-metrics-ingest — the seed's metrics endpoint. Anonymous to ASP.NET Core: the caller
/// presents the shared OPS_INGEST_TOKEN (any project) or a project's own oo_ing_… token in x-ops-ingest-token.
/// Checks run cheapest and least revealing first: token (401), content type (415), size (413), Idempotency-Key and
/// body (400), the token's project (403), timestamps (400, 422 beyond retention), then one database call that
/// refuses an unknown project (404) or branch (400), replays a repeated Idempotency-Key (or 422 for another body),
/// and stores the batch. Nothing is stored unless everything passes.
/// </summary>
public static class MetricsIngestApi
{
    public const string Route = "/functions/v1/ops-metrics-ingest";
    public const string TokenHeader = "x-ops-ingest-token";
    public const string IdempotencyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The answer's shape, for the OpenAPI document (the handler writes the bytes itself).</summary>
    public sealed record IngestAnswer(int Inserted);

    public static IEndpointRouteBuilder MapMetricsIngestApi(this IEndpointRouteBuilder app)
    {
        var settings = IngestSettings.From(app.ServiceProvider.GetRequiredService<IConfiguration>());
        app.MapPost(Route, (HttpRequest request, OpsDatabase db, OpsSecrets secrets, TimeProvider clock, CancellationToken ct) =>
                Ingest(request, db, secrets, clock, settings, ct))
            .AllowAnonymous()
            .OwnBodyLimit() // token-authenticated, at most 1 MiB (RequestBody)
            .WithTags("Metrics")
            .WithSummary("Store a batch of metric samples (header x-ops-ingest-token: OPS_INGEST_TOKEN or the project's oo_ing_… token)")
            // No .Accepts<…>(): its content-type matcher would answer 415 itself, before the token check and without
            // naming the field. The body is described here instead.
            .WithDescription("Body (application/json, at most 1 MiB): {\"project_id\": uuid, \"ts\": ISO 8601 with offset, \"samples\": " +
                "[{\"metric\": \"cpu_pct\", \"value\": 45.2, \"ts\"?: …, \"branch\"?: name, \"labels\"?: {string: string}}]} (at most 10,000). " +
                "Answers {\"inserted\": N}: duplicates (project, branch, metric, ts) are skipped and not counted. Optional Idempotency-Key header.")
            .Produces<IngestAnswer>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    static async Task<Results<ContentHttpResult, ProblemHttpResult>> Ingest(
        HttpRequest request, OpsDatabase db, OpsSecrets secrets, TimeProvider clock, IngestSettings settings, CancellationToken ct)
    {
        var (authenticated, tokenProject) = await AuthenticateAsync(request, db, secrets, ct);
        if (!authenticated)
            return Problem(401, "Unauthorized", $"Send a valid ingest token in the {TokenHeader} header.", TokenHeader, "Missing or not valid.");
        if (!IsJson(request.ContentType))
            return Problem(415, "Unsupported media type", "Send the batch as JSON with content-type: application/json.", "content-type", "Must be application/json.");
        if (!TryIdempotencyKey(request, out var idempotencyKey))
            return Problem(400, "Invalid value", "Idempotency-Key must be 1 to 255 visible ASCII characters, sent once.", IdempotencyHeader, "Must be 1 to 255 visible ASCII characters.");

        using var body = await RequestBody.ReadAsync(request, IngestSettings.MaxBodyBytes, ct);
        if (body is null)
            return Problem(413, "Payload too large", $"The body may be at most {IngestSettings.MaxBodyBytes} bytes (1 MiB): split the batch.", "body", "Larger than 1 MiB.");

        var invalid = new IngestErrors();
        var batch = IngestBodyParser.Parse(body.Span, invalid);
        // Before any other verdict, so a project's token learns nothing about another project (not even its branches).
        if (tokenProject is { } allowed && batch.ProjectId is { } asked && asked != allowed)
            return Problem(403, "Forbidden", "This ingest token belongs to another project.", "project_id", "Not the project of this ingest token.");
        var tooOld = new IngestErrors();
        if (!invalid.Any) settings.CheckTimes(batch, clock.GetUtcNow().UtcDateTime, invalid, tooOld);
        if (invalid.Any) return Problem(400, "Invalid value", invalid.Summary("The batch was not stored"), invalid.ToDictionary());
        if (tooOld.Any) return Problem(422, "Unprocessable sample", tooOld.Summary("The batch was not stored"), tooOld.ToDictionary());

        var hash = idempotencyKey is null ? null : SHA256.HashData(body.Span);
        MetricsIngestStore.Outcome outcome;
        try
        {
            outcome = await MetricsIngestStore.IngestAsync(db.Service, batch, idempotencyKey, hash, ct);
        }
        catch (PostgresException e) when (e.ColumnName is { } field && e.SqlState is "22023" or "P0002")
        {
            var (status, title) = e.SqlState == "P0002" ? (404, "Not found") : field == IdempotencyHeader ? (422, "Idempotency-Key reused") : (400, "Invalid value");
            return Problem(status, title, "The batch was not stored.", field, e.MessageText);
        }
        if (outcome.Replayed) request.HttpContext.Response.Headers[ReplayedHeader] = "true";
        // Written by hand so that the bytes are exactly the seed's: {"inserted": 2}, with its space.
        return TypedResults.Text($"{{\"inserted\": {outcome.Inserted}}}", "application/json", Encoding.UTF8);
    }

    /// <summary>(true, null) for the shared token, (true, project) for a project's token; (false, _) for anything else.</summary>
    static async Task<(bool Authenticated, Guid? Project)> AuthenticateAsync(HttpRequest request, OpsDatabase db, OpsSecrets secrets, CancellationToken ct)
    {
        if (!request.Headers.TryGetValue(TokenHeader, out var values) || values.Count != 1 || values[0] is not { Length: > 0 } token)
            return (false, null);
        if (secrets.Matches(OpsSecrets.IngestToken, token)) return (true, null);
        if (!token.StartsWith(IngestTokens.Prefix, StringComparison.Ordinal) || token.Length > 128) return (false, null);
        var project = await MetricsIngestStore.AuthenticateTokenAsync(db.Service, token, ct);
        return (project is not null, project);
    }

    static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) &&
        media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) &&
        (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    static bool TryIdempotencyKey(HttpRequest request, out string? key)
    {
        key = null;
        if (!request.Headers.TryGetValue(IdempotencyHeader, out var values)) return true;
        if (values.Count != 1 || values[0] is not { Length: >= 1 and <= 255 } value || value.Any(c => c is < '!' or > '~')) return false;
        key = value;
        return true;
    }

    static ProblemHttpResult Problem(int status, string title, string detail, string field, string message) =>
        Problem(status, title, detail, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>Every refusal names its field(s) in "errors", as validation answers elsewhere in the API do.</summary>
    static ProblemHttpResult Problem(int status, string title, string detail, IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors) { Status = status, Title = title, Detail = detail });
}
