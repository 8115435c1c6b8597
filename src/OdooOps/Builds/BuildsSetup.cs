namespace OdooOps.Builds;

/// <summary>
/// The builds feature's services: the trigger, and the live log streams' notification fan-out, watcher, caps and
/// settings (checked here, so that a bad value stops `serve` at start with one line).
/// </summary>
internal static class BuildsSetup
{
    public static IServiceCollection AddBuilds(this IServiceCollection services, IConfiguration config)
    {
        BuildLogStreamSettings.Check(config);
        services.AddSingleton<BuildTrigger>();
        services.AddSingleton<BuildLogStreamSettings>();
        services.AddSingleton<BuildLogNotifications>();
        services.AddSingleton<BuildLogStreamLimits>();
        services.AddHostedService<BuildLogWatcher>();
        return services;
    }
}
