using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace OdooOps.Server;

/// <summary>
/// The database is the second enforcement of access rules and the last word on integrity, so its refusals reach
/// API callers as ProblemDetails with the right status instead of a 500: RLS or role refusal → 403, not found → 404,
/// unique violation → 409, check violation or bad argument → 400 (naming the column or the function's message);
/// and a <see cref="RequestRefusedException"/> (a refusal found after writes, which therefore roll back).
/// </summary>
public sealed class DatabaseErrorHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = exception switch
        {
            PostgresException pg => Map(pg),
            RequestRefusedException r => (r.Status, r.Title, r.Message),
            _ => (0, "", ""),
        };
        if (status == 0) return false;
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    public static (int Status, string Title, string Detail) Map(PostgresException pg) => pg.SqlState switch
    {
        "42501" => (403, "Forbidden", "Your role does not allow this."),
        "OOL01" => (409, "Lease lost", pg.MessageText), // a runner that no longer holds a build (migration 0011)
        "OOR01" => (401, "Unauthorized", "Unknown, expired or disabled runner credentials."),
        "P0002" => (404, "Not found", pg.MessageText),
        "23505" => (409, "Conflict", pg.ConstraintName is { } c ? $"Already exists ({c})." : pg.MessageText),
        "55000" => (409, "Conflict", pg.MessageText),
        "23503" => (404, "Not found", "A referenced record does not exist."),
        "23514" or "23502" => (400, "Invalid value", pg.ColumnName is { } col ? $"Invalid value for {col}." : $"Invalid value ({pg.ConstraintName}).") ,
        "22023" or "22P02" or "22007" or "22008" => (400, "Invalid value", pg.MessageText),
        _ => (500, "Database error", "The database could not complete the request."),
    };
}
