namespace OdooOps.Ui;

/// <summary>The console: Blazor components rendered on the server (static SSR). Every form is a Blazor form and
/// carries an antiforgery token (UseAntiforgery validates it), sign-out included.</summary>
internal static class UiEndpoints
{
    public static WebApplication MapUi(this WebApplication app)
    {
        app.MapGet("/", () => TypedResults.Redirect("/app/projects")).ExcludeFromDescription();
        app.MapRazorComponents<App>();
        return app;
    }
}
