namespace OdooOps.Cli;

/// <summary>
/// How the clients in this binary (the runner, `metrics push`) honour a server's Retry-After: they wait at least that
/// long before trying again, but no longer than their own cap, so a wrong header cannot stall them.
/// </summary>
internal static class RetryAfter
{
    /// <summary>The header's wait (seconds, or a date from now); null when absent or already past.</summary>
    public static TimeSpan? Of(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } header) return null;
        var wait = header.Delta ?? (header.Date is { } at ? at - DateTimeOffset.UtcNow : null);
        return wait > TimeSpan.Zero ? wait : null;
    }

    /// <summary>The caller's own back-off, or the server's wait when that is longer, up to <paramref name="cap"/>.</summary>
    public static TimeSpan Next(TimeSpan own, TimeSpan? asked, TimeSpan cap) =>
        asked is { } wait && wait > own ? (wait < cap ? wait : cap) : own;
}
