using OdooOps.Database;
using OdooOps.Health;
using OdooOps.Home;

namespace OdooOps.Server;

/// <summary>The web host of `odooops serve`: one place that wires every feature's services and endpoints.</summary>
public static class ServerApp
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static WebApplication Build(string urls, Microsoft.Extensions.Configuration.IConfiguration config, OpsDatabase database)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddConfiguration(config);
        builder.WebHost.UseUrls(urls);
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(database);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthApi();
        app.MapHomePage();
        return app;
    }
}
