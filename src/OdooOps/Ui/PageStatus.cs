namespace OdooOps.Ui;

/// <summary>Status codes for console pages that render their own HTML (404 "Project not found", …).</summary>
internal static class PageStatus
{
    /// <summary>
    /// Sets <paramref name="status"/> as the response starts. Set during rendering instead, Blazor (.NET 10) treats
    /// a 404 as "not found" and writes no body of ours (it expects a re-execution of a not-found page). Form handlers
    /// run after that check and may set Response.StatusCode directly.
    /// </summary>
    public static void SetWhenSent(HttpContext http, int status) =>
        http.Response.OnStarting(() =>
        {
            http.Response.StatusCode = status;
            return Task.CompletedTask;
        });
}
