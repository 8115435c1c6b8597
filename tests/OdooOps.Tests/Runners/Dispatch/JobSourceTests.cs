using System.Net.Http.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Runners.Dispatch;

/// <summary>
/// What a claimed job points the runner at and fetches with: the project's repository credential, decrypted for that
/// project's builds only (and only if it was encrypted for that project); a local path only where the operator allows it;
/// never a remote helper — a job that may not go fails with the reason and never reaches the runner.
/// </summary>
public sealed class JobSourceTests(PostgresCluster cluster)
{
    const string Secret = "ghp_S3cretTokenValue0123456789abcdef";

    [Fact]
    public async Task The_credential_reaches_its_own_project_builds_only()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        var other = await Accounts.CreateProjectAsync(world.Owner, world.OrgId, "other");
        await SetCredentialAsync(world, world.ProjectId, new { kind = "token", username = "deployer", secret = Secret });
        using var runner = await world.ClientAsync(capacity: 2);

        var mine = await world.QueueBuildAsync("main");
        var theirs = await QueueAsync(world, other);
        var jobs = await runner.NextAsync(2, 5, default);

        Assert.Equal(new GitCredential("token", "deployer", Secret), Assert.Single(jobs, j => j.BuildId == mine).GitCredential);
        Assert.Null(Assert.Single(jobs, j => j.BuildId == theirs).GitCredential);
        Assert.DoesNotContain(Secret, Assert.Single(jobs, j => j.BuildId == mine).ToString()); // a job logged by accident shows ***
    }

    [Theory]
    [InlineData("http://git.example.com/acme/erp.git")]
    [InlineData("git://git.example.com/acme/erp.git")]
    public async Task A_credential_is_never_handed_out_for_a_plain_text_url_an_older_version_accepted(string url)
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        await SetCredentialAsync(world, world.ProjectId, new { kind = "token", secret = Secret });
        await using (var conn = await Accounts.OpenAsync(world.Owner))
            await conn.ExecuteAsync("update ops.projects set repo_url = @url where id = @ProjectId", new { url, world.ProjectId });
        using var runner = await world.ClientAsync();

        var build = await world.QueueBuildAsync("main");
        Assert.Empty(await runner.NextAsync(1, 1, default));

        var row = await world.BuildAsync(build);
        Assert.Equal("failed", row.Status);
        Assert.Contains("would send its repository credential unencrypted", row.ResultDetail);
    }

    [Fact]
    public async Task A_credential_copied_onto_another_project_does_not_decrypt_there_and_its_build_fails_with_the_reason()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        var other = await Accounts.CreateProjectAsync(world.Owner, world.OrgId, "copycat");
        await SetCredentialAsync(world, world.ProjectId, new { kind = "token", secret = Secret });
        await using (var conn = await Accounts.OpenAsync(world.Owner))
            await conn.ExecuteAsync("""
                insert into ops_private.repo_credentials (project_id, kind, username, secret)
                select @other, kind, username, secret from ops_private.repo_credentials where project_id = @ProjectId
                """, new { other, world.ProjectId });
        using var runner = await world.ClientAsync();

        var build = await QueueAsync(world, other);
        Assert.Empty(await runner.NextAsync(1, 1, default));

        var row = await world.BuildAsync(build);
        Assert.Equal("failed", row.Status);
        Assert.Contains("repository credential cannot be decrypted", row.ResultDetail);
    }

    [Fact]
    public async Task A_local_repository_is_not_fetched_unless_the_operator_allows_it_and_a_remote_helper_never()
    {
        await using var world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_ALLOW_LOCAL_REPOS"] = "0" });
        using var runner = await world.ClientAsync();

        // The world's project points at a folder (set in the database, as a project made before the rules could be).
        var local = await world.QueueBuildAsync("main");
        Assert.Empty(await runner.NextAsync(1, 1, default));
        var row = await world.BuildAsync(local);
        Assert.Equal("failed", row.Status);
        Assert.Contains("OPS_ALLOW_LOCAL_REPOS", row.ResultDetail);

        await using (var conn = await Accounts.OpenAsync(world.Owner))
            await conn.ExecuteAsync("update ops.projects set repo_url = 'ext::sh -c touch% /tmp/odooops-pwned' where id = @ProjectId", new { world.ProjectId });
        var helper = await world.QueueBuildAsync("staging");
        Assert.Empty(await runner.NextAsync(1, 1, default));
        Assert.Contains("remote helper", (await world.BuildAsync(helper)).ResultDetail);
    }

    static async Task SetCredentialAsync(RunnerWorld world, Guid project, object body)
    {
        using var api = await world.OwnerApiAsync();
        var response = await api.PutAsJsonAsync($"/api/ops/projects/{project}/repo-credential", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    static async Task<Guid> QueueAsync(RunnerWorld world, Guid project)
    {
        await using var conn = await Accounts.OpenAsync(world.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger) select project_id, id, 'push' from ops.branches where project_id = @project and name = 'main'
            returning id
            """, new { project });
    }
}
