namespace OdooOps.Home;

/// <summary>Until the console lands, the root says what this server is and where its health lives.</summary>
public static class HomePage
{
    public static IEndpointRouteBuilder MapHomePage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Content("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>OdooOps</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#111}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px}</style>
            </head><body>
            <h1>OdooOps</h1>
            <p>The control plane for Odoo hosting is running.</p>
            <ul><li><a href="/healthz"><code>/healthz</code></a> — process</li><li><a href="/readyz"><code>/readyz</code></a> — database and migrations</li></ul>
            </body></html>
            """, "text/html; charset=utf-8")).ExcludeFromDescription();
        return app;
    }
}
