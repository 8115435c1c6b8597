using Dapper;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The server's side of placement and of a runner's absence, through the protocol and the database: a pinned branch is
/// built by its host only, a full host builds pinned branches only, a runner not heard from has its instances shown
/// unknown until it syncs again, and a project keeps at most its maximum of development instances.
/// </summary>
public sealed class InstancePlacementTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    async Task<(Guid Id, DispatchClient Client)> RunnerAsync(string name)
    {
        var registered = await _world.RegisterAsync(name);
        return (registered.RunnerId, new DispatchClient(_world.Url, registered.Token));
    }

    async Task ExecAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    /// <summary>An instance row of a finished build of the branch on the runner, as a release would leave it.</summary>
    async Task<Guid> InstanceAsync(Guid runner, string branch, string stage, DateTime? createdAt = null)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            with b as (
                insert into ops.builds (project_id, branch_id, status, trigger, finished_at)
                select project_id, id, 'success', 'manual', now() from ops.branches where project_id = @ProjectId and name = @branch
                returning id, project_id, branch_id)
            insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, state, database_name, created_at)
            select b.project_id, b.branch_id, b.id, @runner, @stage, 'running', 'oo-' || left(b.id::text, 8), coalesce(@createdAt, now()) from b
            returning id
            """, new { _world.ProjectId, branch, runner, stage, createdAt });
    }

    [Fact]
    public async Task A_pinned_branch_is_built_by_its_host_only_and_a_full_host_builds_pinned_branches_only()
    {
        var (hostId, host) = await RunnerAsync("host");
        var (_, other) = await RunnerAsync("other");
        using (host) using (other)
        {
            await ExecAsync("update ops.branches set runner_id = @hostId where project_id = @ProjectId and name = 'main'", new { hostId, _world.ProjectId });
            var production = await _world.QueueBuildAsync("main");
            Assert.Empty(await other.NextAsync(1, 0, CancellationToken.None));
            Assert.Equal(production, Assert.Single(await host.NextAsync(1, 0, CancellationToken.None)).BuildId);
            await ExecAsync("delete from ops.run_queue");

            // The host's one instance slot is taken: a development build (a new instance) waits for another host…
            await ExecAsync("update ops.runners set instance_capacity = 1 where id = @hostId", new { hostId });
            await InstanceAsync(hostId, "feature-x", "development");
            var development = await _world.QueueBuildAsync("feature-x");
            Assert.Empty(await host.NextAsync(1, 0, CancellationToken.None));
            // …while its pinned production branch still deploys there (its new instance replaces the one it runs).
            var next = await _world.QueueBuildAsync("main", "abcdef1");
            Assert.Equal(next, Assert.Single(await host.NextAsync(1, 0, CancellationToken.None)).BuildId);
            Assert.Equal(development, Assert.Single(await other.NextAsync(1, 0, CancellationToken.None)).BuildId);
        }
    }

    [Fact]
    public async Task A_runner_not_heard_from_has_its_instances_unknown_until_it_syncs_again()
    {
        var (runnerId, runner) = await RunnerAsync("quiet");
        using (runner)
        {
            var instance = await InstanceAsync(runnerId, "main", "production");
            var stopped = await InstanceAsync(runnerId, "staging", "staging");
            await ExecAsync("update ops.instances set state = 'stopped' where id = @stopped", new { stopped });
            await ExecAsync("update ops.runners set instances_seen_at = now() - interval '5 minutes', last_seen_at = now() - interval '5 minutes' where id = @runnerId", new { runnerId });
            await using var conn = await Accounts.OpenAsync(_world.Owner);
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select ops.mark_lost_instances(interval '60 seconds')"));
            var (state, reason) = await conn.QuerySingleAsync<(string, string)>("select state, reason from ops.instances where id = @instance", new { instance });
            Assert.Equal("unknown", state);
            Assert.StartsWith("runner quiet not heard from since", reason);
            Assert.Equal("stopped", await conn.ExecuteScalarAsync<string>("select state from ops.instances where id = @stopped", new { stopped }));

            // Back: its first sync puts back what the instance really is.
            var answer = await runner.SyncInstancesAsync(new SyncRequest(null,
                [new InstanceReport(instance, "running", null, 23001, 23002, null, 0, 0, DateTime.UtcNow, DateTime.UtcNow, null)], []), CancellationToken.None);
            Assert.Contains(answer.Instances, s => s.InstanceId == instance && s.Desired == "running");
            Assert.True(answer.IngestTokens.ContainsKey(_world.ProjectId)); // a token to send its samples with
            Assert.Equal("running", await conn.ExecuteScalarAsync<string>("select state from ops.instances where id = @instance", new { instance }));
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select ops.mark_lost_instances(interval '60 seconds')"));
        }
    }

    [Fact]
    public async Task A_report_about_an_instance_of_another_runner_changes_nothing()
    {
        var (ownerId, owner) = await RunnerAsync("owner");
        var (_, intruder) = await RunnerAsync("intruder");
        using (owner) using (intruder)
        {
            var instance = await InstanceAsync(ownerId, "main", "production");
            var answer = await intruder.SyncInstancesAsync(new SyncRequest(null,
                [new InstanceReport(instance, "failed", "forged", 1, 2, null, 9, 0, null, null, null)], []), CancellationToken.None);
            Assert.Empty(answer.Instances);
            Assert.Empty(answer.IngestTokens);
            await using var conn = await Accounts.OpenAsync(_world.Owner);
            Assert.Equal("running", await conn.ExecuteScalarAsync<string>("select state from ops.instances where id = @instance", new { instance }));
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => intruder.InstanceLogsAsync(instance,
                [new InstanceLogLine(0, DateTime.UtcNow, "INFO", "forged")], CancellationToken.None));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
        }
    }
    [Fact]
    public async Task An_organisations_runner_cannot_point_the_proxy_at_loopback_metadata_or_another_runners_address()
    {
        var (orgRunnerId, orgRunner) = await RunnerAsync("tenant-host");
        var (_, second) = await RunnerAsync("tenant-host-2");
        using (orgRunner) using (second)
        {
            var instance = await InstanceAsync(orgRunnerId, "main", "production");
            await ExecAsync("update ops.instances set is_current = true, http_port = 23001 where id = @instance", new { instance });
            await ExecAsync("update ops.projects set host_label = 'app' where id = @ProjectId; update ops.branches set host_label = 'main' where project_id = @ProjectId and name = 'main'",
                new { _world.ProjectId });
            foreach (var address in new[] { "169.254.169.254", "127.0.0.1", "::1", "0.0.0.0", "metadata.google.internal" })
            {
                var refused = await Assert.ThrowsAsync<HttpRequestException>(() => orgRunner.SyncInstancesAsync(new SyncRequest(address, [], []), CancellationToken.None));
                Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            }
            // Without an address, its instances are not routed: the proxy never guesses this host's loopback.
            await orgRunner.SyncInstancesAsync(new SyncRequest(null, [], []), CancellationToken.None);
            await using var conn = await Accounts.OpenAsync(_world.Owner);
            Assert.Null(await conn.ExecuteScalarAsync<string?>("select address from ops.resolve_instance_host('app', 'main', null)"));

            await orgRunner.SyncInstancesAsync(new SyncRequest("10.20.30.40", [], []), CancellationToken.None);
            Assert.Equal("10.20.30.40", await conn.ExecuteScalarAsync<string?>("select address from ops.resolve_instance_host('app', 'main', null)"));
            // Another runner cannot claim the same address (and so reach the first one's instances under its own names).
            var taken = await Assert.ThrowsAsync<LeaseLostException>(() => second.SyncInstancesAsync(new SyncRequest("10.20.30.40", [], []), CancellationToken.None));
            Assert.Contains("Another runner advertises 10.20.30.40", taken.Message); // 409
        }
    }
}
