using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Database;

namespace OdooOps.Health;

/// <summary>/healthz: the process answers. /readyz: the database answers and its migrations match this binary's.</summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok"))).ExcludeFromDescription();
        app.MapGet("/readyz", Ready).ExcludeFromDescription();
        return app;
    }

    public sealed record HealthResponse(string Status);

    public sealed record ReadyResponse(string Status, string Migrations);

    static async Task<Results<Ok<ReadyResponse>, ProblemHttpResult>> Ready(OpsDatabase db, HttpResponse response, CancellationToken ct)
    {
        try
        {
            await using var conn = await db.Service.OpenConnectionAsync(ct);
            var applied = (await conn.QueryAsync<(string Name, string Checksum)>(
                "select script_name, checksum from ops_private.schema_migrations")).ToDictionary(r => r.Name, r => r.Checksum);
            var scripts = Migrator.EmbeddedScripts();
            var current = scripts.Count(s => applied.TryGetValue(s.Name, out var sum) && sum == MigrationJournal.Checksum(s.Contents));
            var summary = $"{current}/{scripts.Count}";
            return current == scripts.Count
                ? TypedResults.Ok(new ReadyResponse("ready", summary))
                : TypedResults.Problem($"Migrations {summary} applied: run odooops db migrate.", statusCode: 503, title: "Not ready");
        }
        catch (Npgsql.NpgsqlException e)
        {
            response.Headers.RetryAfter = Server.DatabaseErrorHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem($"The database is not reachable: {e.Message}", statusCode: 503, title: "Not ready");
        }
    }
}
