using System.Text.Json;
using Dapper;
using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops projects show`, `metrics show` and `system status`, the real binary against a live server with the demo
/// data: each prints what its console page shows, through the same API; `system status` is refused to anyone but a
/// system administrator in one line, and `--fail-on-warning` exits 3 while a check warns.
/// </summary>
public sealed class OverviewVerbTests(PostgresCluster cluster) : IAsyncLifetime, IDisposable
{
    readonly CliSandbox _sandbox = new();
    LiveServer _server = null!;
    readonly Dictionary<string, string> _tokens = [];

    public async ValueTask InitializeAsync()
    {
        _server = await LiveServer.StartAsync(cluster, "verbs");
        await DemoData.SeedAsync(_server.Owner.ConnectionString, Accounts.Password, TextWriter.Null);
        await using var conn = await Accounts.OpenAsync(_server.Owner);
        foreach (var (who, email) in new[] { ("admin", DemoData.AdminEmail), ("viewer", "viewer@demo.odooops.dev") })
            _tokens[who] = await Accounts.CreateTokenAsync(_server.Owner,
                await conn.ExecuteScalarAsync<Guid>("select id from registry.users where email = @email", new { email }), "read");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _sandbox.Dispose();

    Task<CliRunner.Result> RunAs(string who, params string[] args) =>
        _sandbox.RunAsync(args, env: new Dictionary<string, string> { ["ODOOOPS_URL"] = _server.Url, ["ODOOOPS_TOKEN"] = _tokens[who], ["NO_COLOR"] = "1" });

    static string Ok(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Error);
        return r.Output;
    }

    [Fact]
    public async Task Projects_show_prints_production_the_last_deployment_advisories_and_builds()
    {
        var text = Ok(await RunAs("viewer", "projects", "show", "prod-erp"));
        Assert.Contains("production:  main, instance running at http://main.prod-erp.localhost:", text);
        Assert.Contains("deployment:  live on staging", text); // the newest of any branch: staging went live 5 h ago
        Assert.Matches(@"CPU:\s+\d", text);
        Assert.Contains("BUILD", text);
        using var json = JsonDocument.Parse(Ok(await RunAs("viewer", "projects", "show", "prod-erp", "--json")));
        Assert.False(json.RootElement.GetProperty("can_build_production").GetBoolean());
    }

    [Fact]
    public async Task Metrics_show_prints_every_metric_of_the_range_and_names_a_bad_one()
    {
        var text = Ok(await RunAs("viewer", "metrics", "show", "prod-erp", "--range", "7d"));
        Assert.Contains("prod-erp/main", text);
        Assert.Contains("(hour,", text);
        foreach (var metric in new[] { "cpu_pct", "mem_mb", "requests", "response_ms", "queue_jobs" }) Assert.Contains(metric, text);
        using var json = JsonDocument.Parse(Ok(await RunAs("viewer", "metrics", "show", "prod-erp", "--branch", "staging", "--json")));
        Assert.Equal(("staging", "minute"), (json.RootElement.GetProperty("branch").GetString(), json.RootElement.GetProperty("resolution").GetString()));
        Assert.Contains("range", CliSandbox.OneLineError(await RunAs("viewer", "metrics", "show", "prod-erp", "--range", "2w")));
    }

    [Fact]
    public async Task System_status_is_the_administrators_and_can_gate_on_warnings()
    {
        var text = Ok(await RunAs("admin", "system", "status"));
        foreach (var part in new[] { "Function errors", "Connection pool saturation", "build queue:", "runners:", "database:", "advisory_scan" })
            Assert.Contains(part, text);
        using var json = JsonDocument.Parse(Ok(await RunAs("admin", "system", "status", "--json")));
        Assert.True(json.RootElement.GetProperty("database").GetProperty("size_bytes").GetInt64() > 0);
        Assert.Contains("system administrators only", CliSandbox.OneLineError(await RunAs("viewer", "system", "status")));

        // Demo builds wait and no runner is online (the test server runs none): "Runners online" warns.
        var gated = await RunAs("admin", "system", "status", "--fail-on-warning");
        Assert.Equal(3, gated.ExitCode);
        Assert.Contains("Runners online", gated.Output);
    }
}
