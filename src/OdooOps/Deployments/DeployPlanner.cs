using System.Text.Json;
using Dapper;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Pipeline;
using OdooOps.Runners.Dispatch;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Deployments;

/// <summary>
/// The dry run of a deploy (GET …/branches/{id}/deploy-plan, `odooops deployments plan`): what a build of the branch's
/// head would install and update, and why, without running anything. ops.deploy_plan_source says who may ask and what
/// the branch runs now; the repository is vetted and its credential decrypted as for a build (<see cref="JobVetting"/>);
/// <see cref="BranchManifests"/> reads the head's manifests; <see cref="DeployPlan"/> is the runner's own rule. At most
/// <see cref="MaxConcurrent"/> fetches at once per process (each holds a git process and a temporary folder).
/// </summary>
internal sealed class DeployPlanner(OpsDatabase db, RepoSettings repos, RepoCredentialProtector protector)
{
    public const int MaxConcurrent = 2;
    readonly SemaphoreSlim _slots = new(MaxConcurrent);

    /// <summary>The answer: the branch, the head it read, what the branch runs now, and the plan.</summary>
    public sealed record BranchPlan(Guid ProjectId, Guid BranchId, string Branch, string Stage, string CommitSha, string CommitMessage,
        Guid? DeployedBuildId, DeployPlan Plan, IReadOnlyList<string> Problems, IReadOnlyList<string> Summary);

    public abstract record Outcome;
    public sealed record Planned(BranchPlan Plan) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Forbidden(string Message) : Outcome;
    /// <summary>The repository cannot be read as it is set up (not allowed, credential unreadable, branch missing, too large).</summary>
    public sealed record Unplannable(string Message) : Outcome;
    /// <summary>The repository's host did not answer in time, or this server is busy with other plans: try again.</summary>
    public sealed record Unavailable(string Message) : Outcome;

    sealed record Source(string ProjectSlug, string RepoUrl, string Branch, string Stage, string? CredentialKind, string? CredentialUsername,
        string? CredentialSecret, Guid? DeployedBuildId, string? DeployedModules, string? DeployedRequirementsSha256);

    public async Task<Outcome> PlanAsync(Guid userId, Guid projectId, Guid branchId, CancellationToken ct)
    {
        Source source;
        try
        {
            source = await db.AsUserAsync(userId, (c, t) => c.QuerySingleAsync<Source>("""
                select project_slug, repo_url, branch, stage, credential_kind, credential_username, credential_secret, deployed_build_id,
                       deployed_modules::text as deployed_modules, deployed_requirements_sha256
                  from ops.deploy_plan_source(@projectId, @branchId)
                """, new { projectId, branchId }, t), ct);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState is "P0002" or "42501")
        {
            return e.SqlState == "P0002" ? new NotFound() : new Forbidden(e.MessageText);
        }
        var job = new Job(Guid.Empty, Guid.Empty, 0, 1, projectId, source.ProjectSlug, "", source.RepoUrl, null, source.Branch, source.Stage,
            "plan", 0, new Dictionary<string, string>());
        var stored = source.CredentialKind is { } kind ? new DispatchStore.StoredCredential(kind, source.CredentialUsername, source.CredentialSecret!) : null;
        var (vetted, refusal) = JobVetting.Vet(job, stored, repos, protector);
        if (vetted is null) return new Unplannable(refusal!);

        if (!await _slots.WaitAsync(TimeSpan.Zero, ct))
            return new Unavailable($"This server is already reading {MaxConcurrent} repositories for deploy plans; try again in a few seconds.");
        BranchManifests.Head head;
        try { head = await BranchManifests.FetchAsync(source.RepoUrl, source.Branch, vetted.GitCredential, repos.AllowLocal, ct); }
        catch (GitCheckoutException e) when (e.Failure is GitFailure.RepositoryNotFound or GitFailure.TimedOut)
        {
            return new Unavailable(e.Message);
        }
        catch (GitCheckoutException e) { return new Unplannable(e.Message); }
        catch (System.ComponentModel.Win32Exception) { return new Unavailable("git is not installed on this server."); }
        finally { _slots.Release(); }

        // Development and staging builds install every module on a database of their own; production updates its one.
        var deployed = source.Stage != OdooDefaultPipeline.Production || source.DeployedModules is null ? null
            : JsonSerializer.Deserialize<List<DeployedModule>>(source.DeployedModules, Json)!.Select(m => new ModuleVersion(m.Name, m.Version)).ToList();
        var plan = DeployPlan.Compute(head.Scan.Modules, deployed, head.RequirementsSha256,
            deployed is null ? null : source.DeployedRequirementsSha256);
        return new Planned(new BranchPlan(projectId, branchId, source.Branch, source.Stage, head.CommitSha, head.Subject,
            deployed is null ? null : source.DeployedBuildId, plan, [.. head.Scan.Problems.Select(p => $"{p.Path}: {p.Message}")],
            [.. plan.Describe()]));
    }
}
