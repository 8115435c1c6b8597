using System.Net;
using System.Text.Json;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The env revision through the runner protocol: each sync answer gives an instance the revision of the variables it
/// sends, every change of the stage moves it, and the revision a runner reports back — not when it says the server
/// started — decides whether the instance needs a restart. A runner that reports none (an older one) is judged by its
/// start time as before; a negative revision is refused.
/// </summary>
public sealed class InstanceEnvRevisionTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    HttpClient _api = null!;
    DispatchClient _runner = null!;
    Guid _instance;

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        _api = await _world.OwnerApiAsync();
        var registered = await _world.RegisterAsync("host");
        _runner = new DispatchClient(_world.Url, registered.Token);
        _instance = await InstanceRows.InsertAsync(_world.Owner, _world.ProjectId, "main", new(RunnerId: registered.RunnerId));
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        _runner.Dispose();
        await _world.DisposeAsync();
    }

    string EnvPath => $"/api/ops/projects/{_world.ProjectId}/env";

    async Task SetAsync(string value) =>
        Assert.True((await _api.PutAsync($"{EnvPath}/production/API_URL", ApiWorld.Body(new { value }))).IsSuccessStatusCode);

    /// <summary>Reports the instance running since <paramref name="startedAt"/> with <paramref name="revision"/>; this runner's spec of it.</summary>
    async Task<InstanceSpec> SyncAsync(DateTime? startedAt = null, long? revision = null, bool report = true)
    {
        IReadOnlyList<InstanceReport> reports = report
            ? [new InstanceReport(_instance, "running", null, 23001, 23002, null, 0, 0, startedAt, startedAt, null) { EnvRevision = revision }]
            : [];
        var answer = await _runner.SyncInstancesAsync(new SyncRequest(null, reports, []), CancellationToken.None);
        return Assert.Single(answer.Instances, s => s.InstanceId == _instance);
    }

    async Task<bool> NeedsRestartAsync()
    {
        var list = JsonDocument.Parse(await _api.GetStringAsync($"{EnvPath}?stage=production")).RootElement.GetProperty("restart_needed");
        return list.EnumerateArray().Any(e => e.GetProperty("instance_id").GetGuid() == _instance);
    }

    [Fact]
    public async Task The_revision_reported_back_decides_not_when_the_server_says_it_started()
    {
        var first = await SyncAsync(report: false);
        Assert.Equal(0, first.EnvRevision); // the stage's variables never changed
        await SyncAsync(DateTime.UtcNow.AddHours(-3), first.EnvRevision);
        Assert.False(await NeedsRestartAsync());

        await SetAsync("https://one.example");
        // Started "after" the change by the runner's clock, with the variables before it: named.
        var second = await SyncAsync(DateTime.UtcNow.AddHours(3), first.EnvRevision);
        Assert.True(second.EnvRevision > first.EnvRevision);
        Assert.Equal("https://one.example", second.Env["API_URL"]);
        Assert.True(await NeedsRestartAsync());
        // Started "before" it by that clock, with its variables: not named.
        await SyncAsync(DateTime.UtcNow.AddHours(-3), second.EnvRevision);
        Assert.False(await NeedsRestartAsync());

        // The window: the runner has the answer's variables, they change, then it starts the server with them.
        var answered = await SyncAsync(DateTime.UtcNow.AddHours(-3), second.EnvRevision);
        await SetAsync("https://two.example");
        await SyncAsync(DateTime.UtcNow.AddMinutes(1), answered.EnvRevision);
        Assert.True(await NeedsRestartAsync());
        var third = await SyncAsync(DateTime.UtcNow.AddMinutes(1), answered.EnvRevision);
        Assert.True(third.EnvRevision > answered.EnvRevision);
        Assert.Equal("https://two.example", third.Env["API_URL"]);
        await SyncAsync(DateTime.UtcNow.AddHours(-3), third.EnvRevision);
        Assert.False(await NeedsRestartAsync());

        // A removal is a change too.
        Assert.Equal(HttpStatusCode.OK, (await _api.DeleteAsync($"{EnvPath}/production/API_URL")).StatusCode);
        var fourth = await SyncAsync(DateTime.UtcNow.AddHours(-3), third.EnvRevision);
        Assert.True(fourth.EnvRevision > third.EnvRevision);
        Assert.DoesNotContain("API_URL", fourth.Env.Keys);
        Assert.True(await NeedsRestartAsync());
    }

    [Fact]
    public async Task A_runner_that_reports_no_revision_is_judged_by_when_it_started()
    {
        await SyncAsync(DateTime.UtcNow.AddHours(-3), revision: 0);
        await SetAsync("https://one.example");
        Assert.True(await NeedsRestartAsync());
        // An older runner: no revision in its report, so its clock's start time is all there is.
        await SyncAsync(DateTime.UtcNow.AddMinutes(1));
        Assert.False(await NeedsRestartAsync());
        await SyncAsync(DateTime.UtcNow.AddHours(-3));
        Assert.True(await NeedsRestartAsync());
        Assert.Null(await InstanceRows.ScalarAsync<long?>(_world.Owner, "select env_revision from ops.instances where id = @_instance", new { _instance }));
    }

    [Fact]
    public async Task A_runner_claiming_a_revision_the_stage_has_not_reached_cannot_hide_the_next_restart()
    {
        var current = (await SyncAsync(report: false)).EnvRevision;
        // A runner reports a revision far ahead of the stage's: kept at the stage's, so the next change still names it.
        await SyncAsync(DateTime.UtcNow.AddHours(-3), current + 1000);
        Assert.Equal(current, await InstanceRows.ScalarAsync<long?>(_world.Owner, "select env_revision from ops.instances where id = @_instance", new { _instance }));
        Assert.False(await NeedsRestartAsync());
        await SetAsync("https://one.example");
        Assert.True(await NeedsRestartAsync());
        await SyncAsync(DateTime.UtcNow.AddHours(-3), current + 1000);
        Assert.False(await NeedsRestartAsync()); // capped at the new revision: as if it restarted with it
    }

    [Fact]
    public async Task A_negative_revision_is_a_400_naming_the_field_and_changes_nothing()
    {
        await SyncAsync(DateTime.UtcNow.AddHours(-3), revision: 0);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => SyncAsync(DateTime.UtcNow, revision: -1));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("instances[0].env_revision", refused.Message);
        Assert.Equal(0L, await InstanceRows.ScalarAsync<long?>(_world.Owner, "select env_revision from ops.instances where id = @_instance", new { _instance }));
    }
}
