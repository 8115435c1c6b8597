namespace OdooOps.Projects;

/// <summary>The projects feature's services: what a repository may be, and repository credentials (their use case, encryption and upgrade).</summary>
internal static class ProjectsSetup
{
    public static IServiceCollection AddProjects(this IServiceCollection services)
    {
        // Read from the host's final configuration, once; the start-up move below needs it, so a bad value stops `serve`
        // before it listens.
        services.AddSingleton(sp => RepoSettings.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<RepoCredentialProtector>();
        services.AddSingleton<RepoCredentials>();
        services.AddSingleton<RepoUrlCredentialMove>();
        services.AddHostedService(sp => sp.GetRequiredService<RepoUrlCredentialMove>());
        return services;
    }
}
