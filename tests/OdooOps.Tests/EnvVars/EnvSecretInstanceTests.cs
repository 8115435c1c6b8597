using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.EnvVars;

/// <summary>
/// A production secret set through the API reaches a real (sandboxed stand-in) Odoo instance and is masked in its log;
/// changing it names that instance as needing a restart, the restart (the instances' own action) takes the new value,
/// which is masked too, and then nothing needs a restart any more.
/// </summary>
public sealed class EnvSecretInstanceTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync();
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    static async Task LogAsync(int port, string message)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        (await http.PostAsync($"http://127.0.0.1:{port}/standin/log?level=ERROR&msg={Uri.EscapeDataString(message)}", null)).EnsureSuccessStatusCode();
    }

    async Task WaitForLineAsync(Guid instance, string like)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        await ProcessProbe.WaitUntilAsync(() => conn.ExecuteScalar<int>(
                "select count(*) from ops.instance_logs where instance_id = @instance and line like @like", new { instance, like }) > 0,
            TimeSpan.FromSeconds(60), () => $"no instance log line like {like}");
    }

    [Fact]
    public async Task A_secret_is_masked_in_the_instance_log_and_a_change_offers_the_restart_that_applies_it()
    {
        using var api = await _world.World.OwnerApiAsync();
        var env = $"/api/ops/projects/{_world.World.ProjectId}/env";
        Assert.Equal(HttpStatusCode.Created,
            (await api.PutAsync($"{env}/production/SMTP_PASSWORD", ApiWorld.Body(new { value = "hunter2-first", secret = true }))).StatusCode);
        var instance = await _world.DeployAsync("main");

        await LogAsync(instance.HttpPort!.Value, "boom-hunter2-first");
        await WaitForLineAsync(instance.Id, "%boom-***%");

        var changed = JsonDocument.Parse(await (await api.PutAsync($"{env}/production/SMTP_PASSWORD",
            ApiWorld.Body(new { value = "hunter2-second" }))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(instance.Id.ToString(), Assert.Single(changed.GetProperty("restart_needed").EnumerateArray()).GetProperty("instance_id").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/ops/instances/{instance.Id}/restart", null)).StatusCode);
        var restarted = await _world.WaitForInstanceAsync(instance.BuildId, i => i.State == "running" && i.StartedAt > instance.StartedAt);
        var listed = JsonDocument.Parse(await api.GetStringAsync($"{env}?stage=production")).RootElement;
        Assert.Empty(listed.GetProperty("restart_needed").EnumerateArray());

        await LogAsync(restarted.HttpPort!.Value, "again-hunter2-second");
        await WaitForLineAsync(instance.Id, "%again-***%");
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.instance_logs where line like '%hunter2%'"));
    }
}
