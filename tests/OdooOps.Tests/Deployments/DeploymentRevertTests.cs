using System.Net;
using System.Net.Http.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// A failed production update the runner undid (DoneRequest.reverted): through the runner protocol, the build is
/// failed with "reverted to build …", the history holds a 'reverted' deployment naming the release started again and the
/// backup restored, and the live deployment stays live. A runner naming another branch's build or backup (another
/// tenant's) has them left out, and the result is still recorded.
/// </summary>
public sealed class DeploymentRevertTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    async Task<(string Token, Job Job)> ClaimAsync()
    {
        var token = await _world.RunnerTokenAsync($"runner-{Guid.NewGuid():N}");
        var id = await _world.QueueBuildAsync("main");
        using var client = new OdooOps.Runners.Agent.DispatchClient(_world.Url, token);
        var jobs = await client.NextAsync(1, 5, CancellationToken.None);
        var job = Assert.Single(jobs);
        Assert.Equal(id, job.BuildId);
        return (token, job);
    }

    async Task<HttpResponseMessage> DoneAsync(string token, Job job, BuildRevert revert)
    {
        using var http = new HttpClient { BaseAddress = _world.Url };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await http.PostAsJsonAsync(Done(job.BuildId), new DoneRequest(job.LeaseId, "failed", "odoo: exit code 1 in the update")
            { Reverted = revert }, Json);
    }

    [Fact]
    public async Task A_reverted_update_is_a_reverted_deployment_and_the_build_says_what_it_went_back_to()
    {
        var runner = await DeploymentRows.RunnerAsync(_world.Owner, _world.OrgId, "host");
        var previous = await DeploymentRows.ReleaseAsync(_world.Owner, _world.ProjectId, "main", runner);
        var (token, job) = await ClaimAsync();
        var backup = await DeploymentRows.BackupAsync(_world.Owner, _world.ProjectId, "main", job.BuildId);

        var done = await DoneAsync(token, job, new BuildRevert(previous.BuildId, backup));
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);

        var build = await _world.BuildAsync(job.BuildId);
        Assert.Equal("failed", build.Status);
        Assert.Equal($"odoo: exit code 1 in the update; reverted to build {previous.BuildId}", build.ResultDetail);
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        var row = await conn.QuerySingleAsync<(string Status, string Kind, Guid? To, Guid? Backup, string Reason, DateTime? EndedAt)>("""
            select status, kind, reverted_to_build_id, backup_id, reason, ended_at from ops.deployments where build_id = @BuildId
            """, job);
        Assert.Equal(("reverted", "build", previous.BuildId, backup, "odoo: exit code 1 in the update"), (row.Status, row.Kind, row.To, row.Backup, row.Reason));
        Assert.NotNull(row.EndedAt);
        Assert.Equal("live", await DeploymentRows.StatusAsync(_world.Owner, previous.DeploymentId));

        // The console's history shows it, through the API.
        using var api = await _world.OwnerApiAsync();
        var list = await api.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/ops/projects/{_world.ProjectId}/deployments");
        Assert.Contains(list.GetProperty("deployments").EnumerateArray(),
            d => d.GetProperty("status").GetString() == "reverted" && d.GetProperty("reverted_to_build_id").GetGuid() == previous.BuildId);
    }

    [Fact]
    public async Task A_runner_cannot_point_a_revert_at_another_tenants_build_or_backup()
    {
        var otherOrg = await Accounts.CreateOrgAsync(_world.Owner, "other-org");
        var otherProject = await Accounts.CreateProjectAsync(_world.Owner, otherOrg, "other");
        var otherRunner = await DeploymentRows.RunnerAsync(_world.Owner, otherOrg, "their-host");
        var theirs = await DeploymentRows.ReleaseAsync(_world.Owner, otherProject, "main", otherRunner);
        var theirBackup = await DeploymentRows.BackupAsync(_world.Owner, otherProject, "main");
        var (token, job) = await ClaimAsync();

        var done = await DoneAsync(token, job, new BuildRevert(theirs.BuildId, theirBackup));
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        Assert.Equal("failed", (await _world.BuildAsync(job.BuildId)).Status);
        Assert.EndsWith("reverted to the previous release", (await _world.BuildAsync(job.BuildId)).ResultDetail);
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        var row = await conn.QuerySingleAsync<(string Status, Guid? To, Guid? Backup)>(
            "select status, reverted_to_build_id, backup_id from ops.deployments where build_id = @BuildId", job);
        Assert.Equal(("reverted", (Guid?)null, (Guid?)null), row);
    }
}
