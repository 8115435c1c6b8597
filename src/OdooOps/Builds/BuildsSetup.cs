namespace OdooOps.Builds;

/// <summary>The builds feature's services: the trigger, and the log streams' notification fan-out with its settings.</summary>
internal static class BuildsSetup
{
    public static IServiceCollection AddBuilds(this IServiceCollection services)
    {
        services.AddSingleton<BuildTrigger>();
        services.AddSingleton<BuildLogStreamSettings>();
        services.AddSingleton<BuildLogNotifications>();
        return services;
    }
}
