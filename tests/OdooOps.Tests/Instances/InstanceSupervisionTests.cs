using System.Net.Http.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The runner watches its instances for real: a crash is restarted, repeated crashes end "failed" with the reason, a
/// server that stops answering is unhealthy then restarted; its Odoo log reaches ops.instance_logs with levels and its
/// CPU, memory and request samples reach ops.metric_samples and the metrics series API.
/// </summary>
public sealed class InstanceSupervisionTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync(h => h with { MaxRestarts = 3, UnhealthyAfter = 2 });
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    static async Task PostAsync(int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try { await http.PostAsync($"http://127.0.0.1:{port}{path}", null); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { } // a crash may cut the answer
    }

    [Fact]
    public async Task A_crash_is_restarted_and_repeated_crashes_end_failed_with_the_reason()
    {
        var instance = await _world.DeployAsync("main");
        await PostAsync(instance.HttpPort!.Value, "/standin/crash");
        var restarted = await _world.WaitForInstanceAsync(instance.BuildId, i => i.Restarts == 1 && i.State == "running");
        Assert.Equal(instance.HttpPort, restarted.HttpPort); // same ports across restarts: the proxy's route stays

        await PostAsync(instance.HttpPort!.Value, "/standin/crash");
        await _world.WaitForInstanceAsync(instance.BuildId, i => i.Restarts == 2 && i.State == "running");
        await PostAsync(instance.HttpPort!.Value, "/standin/crash");
        var failed = await _world.WaitForInstanceAsync(instance.BuildId, i => i.State == "failed");
        Assert.Contains("exited 3 times within 10 minutes", failed.Reason);
        Assert.Contains("exit code 1", failed.Reason);
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        await ProcessProbe.WaitUntilAsync(() => LogLinesAsync(instance.Id).Result.Any(l => l.StartsWith("odooops: the server exited", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), () => "no line says the server exited");

        // The advisory scan opens instance_failed for the production branch, critical, with the reason.
        await _world.World.Service<OdooOps.Advisories.AdvisoryScanner>().ScanAsync(_world.World.ProjectId, CancellationToken.None);
        var (severity, status) = await conn.QuerySingleAsync<(string, string)>(
            "select severity, status from ops.advisories where project_id = @ProjectId and rule = 'instance_failed'", new { _world.World.ProjectId });
        Assert.Equal(("critical", "open"), (severity, status));
    }

    [Fact]
    public async Task A_server_that_stops_answering_is_unhealthy_then_restarted()
    {
        var instance = await _world.DeployAsync("main");
        await PostAsync(instance.HttpPort!.Value, "/standin/hang");
        var restarted = await _world.WaitForInstanceAsync(instance.BuildId, i => i.Restarts >= 1);
        await ProcessProbe.WaitUntilAsync(() => LogLinesAsync(instance.Id).Result.Any(l => l.StartsWith("odooops: the server stopped answering", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), () => "no line says the server stopped answering");
        await _world.WaitForInstanceAsync(instance.BuildId, i => i.State == "running" && i.Restarts == restarted.Restarts);
    }

    [Fact]
    public async Task Its_log_and_its_samples_reach_the_server()
    {
        await using (var setup = await Accounts.OpenAsync(_world.World.Owner))
            await setup.ExecuteAsync(
                "insert into ops.env_vars (project_id, stage, name, value, is_secret) values (@ProjectId, 'production', 'SMTP_PASSWORD', 'hunter2-secret', true)",
                new { _world.World.ProjectId });
        var instance = await _world.DeployAsync("main");
        using (var http = new HttpClient())
            for (var i = 0; i < 5; i++) (await http.GetAsync($"http://127.0.0.1:{instance.HttpPort}/web/login")).EnsureSuccessStatusCode();
        await PostAsync(instance.HttpPort!.Value, "/standin/log?level=ERROR&msg=boom-hunter2-secret");

        await ProcessProbe.WaitUntilAsync(() => LogLinesAsync(instance.Id).Result.Any(l => l.Contains("\"GET /web/login HTTP/1.1\" 200")),
            TimeSpan.FromSeconds(60), () => "no werkzeug line in ops.instance_logs");
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        await ProcessProbe.WaitUntilAsync(() => conn.ExecuteScalar<int>(
                "select count(*) from ops.instance_logs where instance_id = @Id and level = 'ERROR' and line like '%boom-***%'", new { instance.Id }) == 1,
            TimeSpan.FromSeconds(60), () => "the ERROR line is not stored with its level and its secret masked");
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.instance_logs where line like '%hunter2%'"));

        // Samples every second (the test's interval): CPU, memory of the process tree, requests of the werkzeug lines.
        await ProcessProbe.WaitUntilAsync(() => conn.ExecuteScalar<int>(
                "select count(distinct metric) from ops.metric_samples where project_id = @ProjectId and metric in ('cpu_pct', 'mem_mb', 'requests')",
                new { _world.World.ProjectId }) == 3,
            TimeSpan.FromSeconds(60), () => "cpu_pct, mem_mb and requests samples did not all arrive");
        var memory = await conn.ExecuteScalarAsync<double>(
            "select max(value) from ops.metric_samples where project_id = @ProjectId and metric = 'mem_mb'", new { _world.World.ProjectId });
        Assert.InRange(memory, 5, 2048); // a Python server's resident memory, not zero, under its limit
        Assert.True(await conn.ExecuteScalarAsync<double>(
            "select sum(value) from ops.metric_samples where project_id = @ProjectId and metric = 'requests'", new { _world.World.ProjectId }) >= 5);

        using var api = await _world.World.OwnerApiAsync();
        var series = await api.GetFromJsonAsync<System.Text.Json.JsonElement>(
            $"/api/ops/projects/{_world.World.ProjectId}/metrics?metric=mem_mb&branch=main&from={DateTime.UtcNow.AddMinutes(-10):O}");
        Assert.NotEmpty(series.GetProperty("points").EnumerateArray());
    }

    async Task<IReadOnlyList<string>> LogLinesAsync(Guid instanceId)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return [.. await conn.QueryAsync<string>("select line from ops.instance_logs where instance_id = @instanceId order by seq", new { instanceId })];
    }
}
