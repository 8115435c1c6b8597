using OdooOps.Server;

namespace OdooOps.Instances;

/// <summary>
/// The instances feature's services: host names and URLs (settings read now, so that a bad value stops `serve` at
/// start with one line naming its key), and the live log streams' notification fan-out and watcher.
/// </summary>
internal static class InstancesSetup
{
    public static IServiceCollection AddInstances(this IServiceCollection services, IConfiguration config)
    {
        _ = InstanceUrls.From(config, WebSettings.From(config)); // the check; the services read the host's final configuration
        services.AddSingleton(sp => InstanceHostSettings.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => InstanceUrls.From(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<WebSettings>()));
        services.AddSingleton<InstanceLogNotifications>();
        services.AddHostedService<InstanceLogWatcher>();
        return services;
    }
}
