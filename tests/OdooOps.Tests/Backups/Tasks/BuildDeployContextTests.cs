using System.Net;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Tasks;

/// <summary>
/// What a claimed build learns about what it deploys over (ops.build_deploy_context): a production build the
/// requirements.txt of the branch's last successful build (from jobs/{id}/source); a staging build its copy of
/// production — the newest verified production backup of its own project, or with staging_source 'live' the production
/// database when it runs on the same runner, else that backup, said in the build's log; every build the branch's URL.
/// </summary>
public sealed class BuildDeployContextTests(PostgresCluster cluster) : IAsyncLifetime
{
    TaskWorld _w = null!;
    static readonly string Requirements = new('e', 64);

    public async ValueTask InitializeAsync() => _w = await TaskWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    static async Task<Job> ClaimAsync(DispatchClient client) => Assert.Single(await client.NextAsync(1, 0, default));

    [Fact]
    public async Task A_production_build_gets_the_requirements_of_the_branch_last_successful_build()
    {
        var runner = await _w.RunnerAsync("requirements");
        using var client = new DispatchClient(_w.World.Url, runner.Token);
        await _w.World.QueueBuildAsync("main");
        var first = await ClaimAsync(client);
        Assert.Null(first.DeployedRequirementsSha256);

        Assert.Equal(HttpStatusCode.BadRequest, await _w.StatusAsync(runner, Source(first.BuildId),
            new SourceRequest(first.LeaseId, null, null, null) { RequirementsSha256 = "NOT-A-HASH" }));
        Assert.Equal(HttpStatusCode.NoContent, await _w.StatusAsync(runner, Source(first.BuildId),
            new SourceRequest(first.LeaseId, null, null, null) { RequirementsSha256 = Requirements }));
        await client.DoneAsync(first, "success", null, default);

        // A failed build after it does not count: it deployed nothing.
        await _w.World.QueueBuildAsync("main");
        var failed = await ClaimAsync(client);
        Assert.Equal(Requirements, failed.DeployedRequirementsSha256);
        Assert.Equal(HttpStatusCode.NoContent, await _w.StatusAsync(runner, Source(failed.BuildId),
            new SourceRequest(failed.LeaseId, null, null, null) { RequirementsSha256 = new string('0', 64) }));
        await client.DoneAsync(failed, "failed", "update failed", default);
        await _w.World.QueueBuildAsync("main");
        var next = await ClaimAsync(client);
        Assert.Equal(Requirements, next.DeployedRequirementsSha256);
        await client.DoneAsync(next, "success", null, default);

        // Other stages get none.
        await _w.World.QueueBuildAsync("staging");
        Assert.Null((await ClaimAsync(client)).DeployedRequirementsSha256);
    }

    [Fact]
    public async Task A_staging_build_starts_from_the_newest_verified_production_backup_of_its_own_project()
    {
        var runner = await _w.RunnerAsync("staging-backup");
        using var client = new DispatchClient(_w.World.Url, runner.Token);

        // None verified yet: the build starts empty, and its log says why.
        await _w.BackupAsync(status: "succeeded", verification: "pending");
        await _w.World.QueueBuildAsync("staging");
        var empty = await ClaimAsync(client);
        Assert.Null(empty.StagingSource);
        Assert.Contains(await _w.World.LogAsync(empty.BuildId), l => l == "system: Production has no verified backup yet: staging starts from an empty database.");
        Assert.Equal(1, empty.LogSeqStart); // after that line
        await client.DoneAsync(empty, "success", null, default);

        var verifiedOld = await _w.BackupAsync(status: "succeeded", verification: "verified", age: TimeSpan.FromDays(2));
        var verified = await _w.BackupAsync(status: "succeeded", verification: "verified", age: TimeSpan.FromDays(1));
        await _w.BackupAsync(status: "succeeded", verification: "failed"); // newer, but failed its verification
        await _w.BackupAsync(status: "succeeded", verification: "pending"); // newer, not verified yet
        await _w.BackupAsync(branch: "staging", status: "succeeded", verification: "verified"); // not production's
        var deleted = await _w.BackupAsync(status: "succeeded", verification: "verified", age: TimeSpan.FromHours(1));
        await _w.ExecAsync("update ops.backups set deleted_at = now() where id = @deleted", new { deleted });
        var otherProject = await Accounts.CreateProjectAsync(_w.World.Owner, _w.World.OrgId, "other");
        await _w.BackupAsync(status: "succeeded", verification: "verified", projectId: otherProject); // another project's production

        await _w.World.QueueBuildAsync("staging");
        var job = await ClaimAsync(client);
        Assert.Equal(new StagingCopy(verified, null, null), job.StagingSource);
        Assert.NotEqual(verifiedOld, job.StagingSource!.BackupId);
        await client.DoneAsync(job, "success", null, default);

        // Production and development builds get none.
        foreach (var branch in new[] { "main", "feature-x" })
        {
            await _w.World.QueueBuildAsync(branch);
            var other = await ClaimAsync(client);
            Assert.Null(other.StagingSource);
            await client.DoneAsync(other, "success", null, default);
        }
    }

    [Fact]
    public async Task A_live_copy_uses_the_production_database_only_on_its_own_runner()
    {
        var production = await _w.RunnerAsync("production-host");
        var elsewhere = await _w.RunnerAsync("elsewhere");
        var instance = await _w.InstanceAsync("main", production, "app-main");
        await _w.InstanceAsync("staging", production, "app-staging"); // gives the staging branch its host label
        var verified = await _w.BackupAsync(status: "succeeded", verification: "verified");
        await _w.ExecAsync("update ops.projects set staging_source = 'live' where id = @ProjectId", new { _w.ProjectId });

        using (var client = new DispatchClient(_w.World.Url, production.Token))
        {
            await _w.World.QueueBuildAsync("staging");
            var job = await ClaimAsync(client);
            Assert.Equal(new StagingCopy(null, "app-main", instance), job.StagingSource);
            Assert.Contains("staging.app.localhost", job.BaseUrl);
            await client.DoneAsync(job, "success", null, default);
        }

        // On another runner the production database is out of reach: the newest verified backup instead, said so.
        using (var client = new DispatchClient(_w.World.Url, elsewhere.Token))
        {
            await _w.World.QueueBuildAsync("staging");
            var job = await ClaimAsync(client);
            Assert.Equal(new StagingCopy(verified, null, null), job.StagingSource);
            var log = await _w.World.LogAsync(job.BuildId);
            Assert.Contains(log, l => l.StartsWith("system: The project copies production into staging live, but production does not run on this build's runner", StringComparison.Ordinal));
            Assert.Equal(log.Count, job.LogSeqStart);
        }
    }
}
