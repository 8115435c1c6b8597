using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Deployments;

/// <summary>One repository of Odoo addons for the deploy plan's tests (a folder: test servers allow local repositories).</summary>
public static class DeployPlanRepo
{
    static readonly SemaphoreSlim Gate = new(1);
    static TestRepository? _repo;

    public static async Task<TestRepository> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_repo is null)
            {
                var repo = await TestRepository.CreateAsync();
                await repo.CommitFilesAsync("addons", Instances.InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"),
                    Instances.InstanceWorld.Manifest("stock_extra", "19.0.1.0.0"));
                _repo = repo;
            }
            return _repo;
        }
        finally { Gate.Release(); }
    }

    /// <summary>A new project of the tenant building from the repository; its id and its production branch's.</summary>
    public static async Task<(Guid Project, Guid Main)> NewProjectAsync(ApiWorld w, ApiWorld.Tenant t)
    {
        var repo = await GetAsync();
        var project = await w.NewProjectAsync(t);
        await using var conn = await Accounts.OpenAsync(w.Factory.Owner);
        await conn.ExecuteAsync("update ops.projects set repo_url = @Dir where id = @project", new { repo.Dir, project });
        return (project, await w.BranchAsync(project, "main"));
    }
}
