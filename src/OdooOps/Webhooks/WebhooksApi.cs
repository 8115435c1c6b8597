using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Metrics;
using OdooOps.Server;

namespace OdooOps.Webhooks;

/// <summary>
/// POST /hooks/github/{project} and /hooks/gitlab/{project}: anonymous to ASP.NET Core, authenticated by the
/// project's webhook secret. Checks run cheapest and least revealing first: content type (415), size (413), then the
/// secret (401) — the same 401 for an unknown or archived project, a project without a secret and a wrong or
/// missing signature, so a stranger cannot probe which projects exist — and only then the event and body (400).
/// The key is read, the request verified and the push applied in one ops_service transaction. A push delivered again
/// within 24 hours (the host's delivery id, or GitHub's signed body, seen before) is answered 200 "duplicate" and applied
/// no more: a replayed delivery builds nothing.
/// </summary>
internal static class WebhooksApi
{
    public static string GitHubPath(Guid projectId) => $"/hooks/github/{projectId}";
    public static string GitLabPath(Guid projectId) => $"/hooks/gitlab/{projectId}";

    /// <summary>The answer to a hook, shown in the provider's delivery log.</summary>
    public sealed record HookAnswer(string Outcome, string Message, string? Branch = null, Guid? BranchId = null, bool BranchCreated = false,
        Guid? BuildId = null, string? BuildStatus = null, string? CommitSha = null, Guid[]? CancelledBuildIds = null);

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        var settings = WebhookSettings.From(app.ServiceProvider.GetRequiredService<IConfiguration>());
        MapHook(app, "/hooks/github/{project:guid}", new GitHubHook(), settings,
            "GitHub webhook: push builds the pushed head (or archives a deleted branch); ping answers",
            $"Content type application/json, at most 1 MiB, signed with the project's webhook secret ({GitHubHook.SignatureHeader}: sha256=<hex HMAC-SHA256 of the body>). " +
            $"{GitHubHook.EventHeader}: push or ping; other events and tag pushes are answered 200 and ignored.");
        MapHook(app, "/hooks/gitlab/{project:guid}", new GitLabHook(), settings,
            "GitLab webhook: Push Hook builds the pushed head (or archives a deleted branch)",
            $"Content type application/json, at most 1 MiB, {GitLabHook.TokenHeader}: the project's webhook secret. " +
            $"{GitLabHook.EventHeader}: Push Hook; other events and tag pushes are answered 200 and ignored.");
        api.MapWebhookSettingsApi(settings);
        return app;
    }

    static void MapHook(IEndpointRouteBuilder app, string route, IHookProvider provider, WebhookSettings settings, string summary, string description) =>
        app.MapPost(route, (Guid project, HttpRequest request, OpsDatabase db, BuildTrigger trigger, CancellationToken ct) =>
                ReceiveAsync(project, request, db, provider, settings, trigger.MaxQueued, ct))
            .AllowAnonymous()
            .OwnBodyLimit() // signed by the project's secret, at most 1 MiB (RequestBody)
            .WithTags("Webhooks")
            .WithSummary(summary)
            // No .Accepts<…>(): its content-type matcher would answer 415 itself, without the advice for form bodies.
            .WithDescription(description)
            .Produces<HookAnswer>(StatusCodes.Status200OK, "application/json")
            .Produces<HookAnswer>(StatusCodes.Status202Accepted, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    static async Task<IResult> ReceiveAsync(Guid project, HttpRequest request, OpsDatabase db, IHookProvider provider,
        WebhookSettings settings, int maxQueued, CancellationToken ct)
    {
        if (UnsupportedMediaType(request.ContentType) is { } unsupported) return unsupported;
        using var body = await RequestBody.ReadAsync(request, WebhookSettings.MaxBodyBytes, ct);
        if (body is null) return Problem(413, "Payload too large", "A webhook body may be at most 1 MiB.");

        await using var conn = await db.Service.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct); // disposed without commit = rolled back
        var key = await WebhookStore.SigningKeyAsync(conn, tx, project);
        if (!provider.Authenticate(key, request.Headers, body.Span))
            return Problem(401, "Unauthorized", "The hook could not be authenticated with a webhook secret of this project.");

        switch (provider.Read(request.Headers, body.Span))
        {
            case HookEvent.Ping:
                return TypedResults.Json(new HookAnswer("pong", $"This {provider.Name} webhook reaches OdooOps and its secret is right."));
            case HookEvent.Ignored ignored:
                return TypedResults.Json(new HookAnswer("ignored", ignored.Reason));
            case HookEvent.Invalid invalid:
                return TypedResults.ValidationProblem(invalid.Errors.Errors, "Nothing was changed.");
            case HookEvent.Push { Git: var push }:
                var branch = push.Branch!;
                var outcome = await WebhookStore.PushAsync(conn, tx, project, provider.Name, branch, push, settings.CancelSupersededBuilds,
                    maxQueued, request.HttpContext.Connection.RemoteIpAddress, provider.DeliveryId(request.Headers),
                    provider.BodyIsSigned ? SHA256.HashData(body.Span) : null);
                if (outcome.Outcome == "too_many")
                    return Problem(429, "Too many queued builds",
                        $"This project already has {outcome.QueuedBuilds} queued builds (limit {maxQueued}): nothing was queued; redeliver the hook later.");
                await tx.CommitAsync(ct);
                return Answer(outcome, branch, push);
            default:
                throw new InvalidOperationException("Unknown hook event.");
        }
    }

    static IResult Answer(PushOutcome o, string branch, GitPush push)
    {
        var sha = push.Deleted ? null : push.After;
        HookAnswer Of(string outcome, string message) =>
            new(outcome, message, branch, o.BranchId, o.BranchCreated, o.BuildId, o.BuildStatus, sha, o.CancelledBuildIds);
        return o.Outcome switch
        {
            "queued" => TypedResults.Json(Of("queued", $"Build of {branch} at {sha![..12]} queued" +
                (o.CancelledBuildIds.Length > 0 ? $"; {o.CancelledBuildIds.Length} queued build(s) of older commits cancelled." : ".")), statusCode: 202),
            "existing" => TypedResults.Json(Of("already_queued", $"This commit of {branch} is already being built ({o.BuildStatus}).")),
            // 200, not an error: a host retries (and GitLab eventually disables) hooks that fail, and nothing failed here.
            "duplicate" => TypedResults.Json(new HookAnswer("duplicate",
                "This delivery was already received in the last 24 hours, so nothing was done (to build the commit again, rebuild it in OdooOps).", branch)),
            "archived" => TypedResults.Json(Of("archived", $"Branch {branch} was deleted in the repository, so it is archived.")),
            "unknown_branch" => TypedResults.Json(Of("ignored", $"Branch {branch} was deleted; this project has no live branch of that name.")),
            "production_branch" => TypedResults.Json(Of("ignored",
                $"Branch {branch} is the production branch: a push never archives it (archive it in OdooOps if that is meant).")),
            _ => throw new InvalidOperationException($"ops.webhook_push answered '{o.Outcome}'."),
        };
    }

    static IResult? UnsupportedMediaType(string? contentType)
    {
        if (MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            if (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) &&
                (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
                return null;
            if (media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                return Problem(415, "Unsupported media type",
                    "This hook was sent as a form (payload=…): in the repository's webhook settings, choose the content type application/json.");
        }
        return Problem(415, "Unsupported media type", "Send the hook as JSON (content-type: application/json).");
    }

    static IResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);
}
