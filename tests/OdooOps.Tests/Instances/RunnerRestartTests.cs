using System.Net.Http.Json;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Instances;

/// <summary>
/// `odooops runner` as a real process: SIGKILL of the runner leaves no Odoo process behind (its servers run under the
/// runner's lifeline), and the runner started again restores its instances from its first sync.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class RunnerRestartTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await InstanceWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    RunnerProcess Start(string token) => _world.World.Track(new RunnerProcess(CliRunner.StartInfo(
        ["runner", "--url", _world.World.Url.ToString(), "--token", token, "--name", "host-proc", "--work-dir", Path.Combine(_world.World.WorkDir, "host-proc")],
        new Dictionary<string, string>
        {
            ["OPS_ODOO_BIN"] = _world.OdooBin, ["OPS_ODOO_DB"] = _world.OdooDb, ["OPS_INSTANCE_HEALTH_SECONDS"] = "1",
            ["OPS_SANDBOX_LOCK_DIR"] = Path.Combine(_world.World.WorkDir, "uid-locks"),
        })));

    [Fact]
    public async Task A_killed_runner_leaves_no_odoo_process_and_its_restart_brings_its_instances_back()
    {
        var token = await _world.World.RunnerTokenAsync("host-proc");
        var runner = Start(token);
        var instance = await _world.DeployAsync("main");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var info = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"http://127.0.0.1:{instance.HttpPort}/standin/info");
        var uid = info.GetProperty("uid").GetInt32();
        Assert.NotEmpty(ProcessProbe.ProcessesOf(uid));

        var killedAt = DateTime.UtcNow;
        await runner.KillAsync();
        await ProcessProbe.WaitUntilAsync(() => ProcessProbe.ProcessesOf(uid).Count == 0, TimeSpan.FromSeconds(60),
            () => $"processes of uid {uid} left after the runner died: {string.Join(", ", ProcessProbe.ProcessesOf(uid))}");

        Start(token);
        var back = await _world.WaitForInstanceAsync(instance.BuildId, i => i.State == "running" && i.StartedAt > killedAt,
            TimeSpan.FromSeconds(120));
        var again = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"http://127.0.0.1:{back.HttpPort}/standin/info");
        Assert.Equal(instance.BuildId.ToString(), again.GetProperty("release").GetString());
    }
}
