using Microsoft.AspNetCore.Diagnostics;

namespace OdooOps.Backups.Storage;

/// <summary>
/// The backup storage cannot be used now (bucket unreachable or refusing, disk full, folder not writable): an outage,
/// not the caller's fault, answered 503 with Retry-After. The message names the storage and the cause, never a
/// credential (the SDK's messages carry none; ours name the bucket and endpoint only).
/// </summary>
public sealed class BackupStorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No object under that key (deleted by hand, or never stored).</summary>
public sealed class BackupObjectNotFoundException(string key) : Exception($"No stored backup under {key}.");

/// <summary>A put that passed the size limit (OPS_BACKUP_MAX_GB): 413, nothing stored.</summary>
public sealed class BackupTooLargeException(long maxBytes) : Exception($"The backup is larger than the limit of {maxBytes} bytes (OPS_BACKUP_MAX_GB).")
{
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>Storage failures reach API and runner callers as ProblemDetails: 503 + Retry-After, 404, 413 — never a 500.</summary>
internal sealed class BackupStorageErrorHandler(IProblemDetailsService problems, ILogger<BackupStorageErrorHandler> log) : IExceptionHandler
{
    /// <summary>What a 503 asks callers to wait: a bucket's endpoint restarting or a network blip.</summary>
    public const int RetryAfterSeconds = 30;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, title) = exception switch
        {
            BackupStorageUnavailableException => (503, "Backup storage unavailable"),
            BackupObjectNotFoundException => (404, "Not found"),
            BackupTooLargeException => (413, "Payload too large"),
            BackupZipRejectedException => (400, "Not a backup zip"),
            _ => (0, ""),
        };
        if (status == 0 || context.Response.HasStarted) return false;
        if (status == 503) log.LogWarning("Backup storage unavailable: {Message}", exception.Message);
        context.Response.StatusCode = status;
        if (status == 503) context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            // The cause (bucket, endpoint, error) goes to the log; callers learn only when to come back.
            ProblemDetails = { Status = status, Title = title, Detail = status == 503 ? $"The backup storage cannot be used right now; try again in {RetryAfterSeconds} s." : exception.Message },
        });
    }
}
