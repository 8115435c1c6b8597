namespace OdooOps.Builds;

/// <summary>The builds feature's services: the trigger, and the log notifications listener with its stream settings.</summary>
public static class BuildsSetup
{
    public static IServiceCollection AddBuilds(this IServiceCollection services)
    {
        services.AddSingleton<BuildTrigger>();
        services.AddSingleton<BuildLogStreamSettings>();
        services.AddSingleton<BuildLogNotifications>();
        services.AddHostedService(sp => sp.GetRequiredService<BuildLogNotifications>());
        return services;
    }
}
