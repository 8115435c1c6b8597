using OdooOps.Secrets;

namespace OdooOps.EnvVars;

/// <summary>The environment variables' services: the sealing of secret values, and the start-up step that seals old plain-text ones.</summary>
internal static class EnvVarsSetup
{
    public static IServiceCollection AddEnvVars(this IServiceCollection services)
    {
        services.AddSingleton(sp => EnvSecretBox.From(sp.GetRequiredService<OpsSecrets>()));
        services.AddSingleton<EnvSecretSeal>();
        services.AddHostedService(sp => sp.GetRequiredService<EnvSecretSeal>());
        return services;
    }
}
