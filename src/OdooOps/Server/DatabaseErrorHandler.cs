using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace OdooOps.Server;

/// <summary>
/// The database is the second enforcement of access rules and the last word on integrity, so its refusals reach
/// API callers as ProblemDetails with the right status instead of a 500: RLS or role refusal → 403, not found → 404,
/// unique violation → 409, check violation or bad argument → 400 (naming the column or the function's message);
/// and a <see cref="RequestRefusedException"/> (a refusal found after writes, which therefore roll back).
/// A database that cannot be reached or cannot take the request now (<see cref="IsUnavailable"/>) is an outage, not
/// a bug: 503 with Retry-After, so that clients and load balancers wait and try again.
/// </summary>
internal sealed class DatabaseErrorHandler(IProblemDetailsService problems) : IExceptionHandler
{
    /// <summary>What a 503 asks clients to wait: about what a PostgreSQL restart or failover takes.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = exception switch
        {
            _ when IsUnavailable(exception) => (503, "Database unavailable",
                $"The database cannot take requests right now; try again in {RetryAfterSeconds} s."),
            PostgresException pg => Map(pg),
            RequestRefusedException r => (r.Status, r.Title, r.Message),
            _ => (0, "", ""),
        };
        if (status == 0) return false;
        context.Response.StatusCode = status;
        if (status == 503) context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>
    /// The database is down, unreachable or refusing work for now — retrying later can succeed, and nothing about the
    /// request was wrong. The first Npgsql exception in the chain decides:
    /// <list type="bullet">
    /// <item>no answer from the server (not a <see cref="PostgresException"/>) that Npgsql deems transient: a socket
    /// error (connection refused or reset), a stream that broke mid-query, a connect or command timeout, a pool with no
    /// free connection in time;</item>
    /// <item>a server error of class 08 (connection exception), class 53 (insufficient resources: 53300
    /// too_many_connections, disk full, out of memory), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
    /// cannot_connect_now (starting up, shutting down, in recovery).</item>
    /// </list>
    /// Not included: deadlocks and serialization failures (a conflict, not an outage), authentication failures and
    /// protocol errors (configuration or bugs), which stay 500.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is NpgsqlException npgsql)
                return npgsql is PostgresException pg
                    ? pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal) ||
                      pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                    : npgsql.IsTransient;
        return false;
    }

    public static (int Status, string Title, string Detail) Map(PostgresException pg) => pg.SqlState switch
    {
        "42501" => (403, "Forbidden", "Your role does not allow this."),
        "OOL01" => (409, "Lease lost", pg.MessageText), // a runner that no longer holds a build (ops_private.held_lease)
        "OOR01" => (401, "Unauthorized", "Unknown, expired or disabled runner credentials."),
        "P0002" => (404, "Not found", pg.MessageText),
        "23505" => (409, "Conflict", pg.ConstraintName is { } c ? $"Already exists ({c})." : pg.MessageText),
        "55000" => (409, "Conflict", pg.MessageText),
        "23503" => (404, "Not found", "A referenced record does not exist."),
        "23514" or "23502" => (400, "Invalid value", pg.ColumnName is { } col ? $"Invalid value for {col}." : $"Invalid value ({pg.ConstraintName}).") ,
        "22023" or "22P02" or "22007" or "22008" => (400, "Invalid value", pg.MessageText),
        "22021" or "22P05" => (400, "Invalid value", "Text with characters the database cannot store (NUL or an invalid byte sequence)."),
        _ => (500, "Database error", "The database could not complete the request."),
    };
}
