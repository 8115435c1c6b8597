namespace OdooOps.Deployments;

/// <summary>The deployments feature's services: the deploy plan's dry run (one per process, it bounds its own fetches).</summary>
internal static class DeploymentsSetup
{
    public static IServiceCollection AddDeployments(this IServiceCollection services) => services.AddSingleton<DeployPlanner>();
}
